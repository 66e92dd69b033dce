"""Recording deposits durably: nothing is acknowledged before its row is committed.

Idempotency: the same organization depositing the same SHA-256 again gets the existing
evidence back (`created=False`); an Idempotency-Key replayed with the same content gets the
same evidence, and with other content a ConflictError. A bulk request is one transaction:
all of it is recorded, or (on invalid input) none of it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from notary.core.certificate import sm3_leaf_value
from notary.core.leaf import Leaf, Metadata, canonical_json, validate_metadata
from notary.errors import ConflictError, StorageError, ValidationError
from notary.orgs import OrgView
from notary.store.db import QUERY_CHUNK, transaction
from notary.store.models import Evidence, EvidenceStatus, EvidenceTag, PinState
from notary.views import EvidenceView, summary

MAX_BULK_ITEMS: Final = 10_000
"""Most hashes in one bulk request (one transaction; 0.8 MB of JSON for bare hashes)."""
MAX_IDEMPOTENCY_KEY_LENGTH: Final = 128
RANDOM_PER_ROW: Final = 44
"""Random bytes per new deposit: 12 for its public id, 32 for its leaf salt."""
"""Hashes per IN (...) lookup: far below every database's bound-parameter limit."""

Kind = Literal["file", "hash"]


@dataclass(frozen=True)
class DepositRequest:
    """One thing to deposit: content hashes plus metadata."""

    sha256: bytes
    sm3: bytes | None
    metadata: Metadata
    kind: Kind
    idempotency_key: str | None = None
    cid: str | None = None
    """The content's CID under the unixfs-v1-2025 profile (files)."""
    spool: str | None = None
    """Spool file holding the bytes until they are pinned (files)."""


@dataclass(frozen=True)
class DepositOutcome:
    public_id: str
    created: bool
    view: EvidenceView
    """The evidence as recorded (no history), for the response."""


def depositor_of(org: OrgView) -> str:
    """The depositor identity written into leaves: the organization's slug."""
    return f"org:{org.slug}"


def _tags(metadata: Metadata) -> list[str]:
    tags = metadata.get("tags")
    return list(tags) if isinstance(tags, list) else []


def _check(request: DepositRequest) -> Metadata:
    if len(request.sha256) != 32 or (request.sm3 is not None and len(request.sm3) != 32):
        raise ValidationError("hashes must be 32 bytes")
    key = request.idempotency_key
    if key is not None and not (0 < len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH and key.isprintable()):
        raise ValidationError("Idempotency-Key must be 1 to 128 printable characters")
    return validate_metadata(request.metadata)


@dataclass(frozen=True)
class _NewRow:
    """A deposit about to be inserted."""

    public_id: str
    sha256: bytes
    sm3: bytes | None
    metadata: Metadata
    depositor: str
    salt: bytes
    leaf_hash: bytes
    idempotency_key: str | None
    kind: str
    received_at: datetime
    cid: str | None
    spool: str | None

    @property
    def pin_state(self) -> str:
        return PinState.PENDING.value if self.spool else PinState.NONE.value

    @classmethod
    def of(
        cls,
        org: OrgView,
        request: DepositRequest,
        metadata: Metadata,
        now: datetime,
        random: bytes,
    ) -> _NewRow:
        """`random`: RANDOM_PER_ROW fresh bytes (12 for the id, 32 for the salt)."""
        salt = random[12:44]
        leaf = Leaf(
            sha256=request.sha256,
            sm3=sm3_leaf_value(request.sm3),
            metadata_digest=hashlib.sha256(canonical_json(metadata)).digest(),  # validated
            depositor=depositor_of(org),
            salt=salt,
        )
        return cls(
            "ev_" + random[:12].hex(),
            request.sha256,
            request.sm3,
            metadata,
            leaf.depositor,
            salt,
            leaf.hash(),
            request.idempotency_key,
            request.kind,
            now,
            request.cid,
            request.spool,
        )

    def values(self, org: OrgView) -> dict[str, object]:
        return {
            "public_id": self.public_id,
            "organization_id": org.id,
            "sha256": self.sha256,
            "sm3": self.sm3,
            "metadata_json": self.metadata,
            "depositor": self.depositor,
            "salt": self.salt,
            "leaf_hash": self.leaf_hash,
            "idempotency_key": self.idempotency_key,
            "kind": self.kind,
            "status": EvidenceStatus.PENDING.value,
            "received_at": self.received_at,
            "cid": self.cid,
            "spool": self.spool,
            "pin_state": self.pin_state,
        }

    def view(self) -> EvidenceView:
        return EvidenceView(
            public_id=self.public_id,
            status=EvidenceStatus.PENDING.value,
            kind=self.kind,
            sha256=self.sha256,
            sm3=self.sm3,
            metadata=dict(self.metadata),
            received_at=self.received_at,
            batch_root=None,
            block_number=None,
            block_time=None,
            tx_hash=None,
            history=(),
            cid=self.cid,
            pin_state=self.pin_state,
        )


def _existing(session: Session, org: OrgView, shas: list[bytes]) -> dict[bytes, Evidence]:
    found: dict[bytes, Evidence] = {}
    for start in range(0, len(shas), QUERY_CHUNK):
        chunk = shas[start : start + QUERY_CHUNK]
        rows = session.scalars(
            select(Evidence)
            .options(selectinload(Evidence.batch))
            .where(Evidence.organization_id == org.id, Evidence.sha256.in_(chunk))
        )
        found.update((row.sha256, row) for row in rows)
    return found


def _record_all(
    session: Session, org: OrgView, checked: list[tuple[DepositRequest, Metadata]]
) -> list[DepositOutcome]:
    """Set-wise: one lookup per QUERY_CHUNK hashes, one executemany INSERT for new rows."""
    now = datetime.now(UTC)
    existing = _existing(session, org, [r.sha256 for r, _ in checked])
    outcomes: list[DepositOutcome] = []
    fresh: dict[bytes, _NewRow] = {}
    entropy = secrets.token_bytes(RANDOM_PER_ROW * len(checked))  # one syscall, not 2 per row
    for n, (request, metadata) in enumerate(checked):
        if request.idempotency_key is not None:
            replay = session.scalar(
                select(Evidence).where(
                    Evidence.organization_id == org.id,
                    Evidence.idempotency_key == request.idempotency_key,
                )
            )
            if replay is not None:
                if replay.sha256 != request.sha256:
                    raise ConflictError("Idempotency-Key was used for other content")
                outcomes.append(DepositOutcome(replay.public_id, False, summary(replay)))
                continue
        if request.sha256 in existing:
            e = existing[request.sha256]
            outcomes.append(DepositOutcome(e.public_id, False, summary(e)))
        elif request.sha256 in fresh:  # the same content twice in one request
            row = fresh[request.sha256]
            outcomes.append(DepositOutcome(row.public_id, False, row.view()))
        else:
            random = entropy[n * RANDOM_PER_ROW : (n + 1) * RANDOM_PER_ROW]
            row = _NewRow.of(org, request, metadata, now, random)
            fresh[request.sha256] = row
            outcomes.append(DepositOutcome(row.public_id, True, row.view()))
    if fresh:
        session.execute(insert(Evidence), [row.values(org) for row in fresh.values()])
        tagged = [row for row in fresh.values() if _tags(row.metadata)]
        if tagged:  # ids are needed only for the tag rows
            ids: dict[str, int] = {}
            for start in range(0, len(tagged), QUERY_CHUNK):
                names = [row.public_id for row in tagged[start : start + QUERY_CHUNK]]
                ids.update(
                    session.execute(
                        select(Evidence.public_id, Evidence.id).where(Evidence.public_id.in_(names))
                    ).all()
                )
            session.execute(
                insert(EvidenceTag),
                [
                    {"evidence_id": ids[row.public_id], "tag": t}
                    for row in tagged
                    for t in sorted(set(_tags(row.metadata)))
                ],
            )
    return outcomes


def deposit(
    factory: sessionmaker[Session], org: OrgView, requests: list[DepositRequest]
) -> list[DepositOutcome]:
    """Record `requests` in one transaction; return one outcome per request, in order."""
    if not requests:
        raise ValidationError("nothing to deposit")
    if len(requests) > MAX_BULK_ITEMS:
        raise ValidationError(f"at most {MAX_BULK_ITEMS} deposits per request")
    checked = [(r, _check(r)) for r in requests]  # all validated before anything is written
    for attempt in range(2):
        try:
            with transaction(factory) as session:
                return _record_all(session, org, checked)
        except StorageError as exc:
            # a concurrent request inserted the same content first: read it on the retry
            if attempt == 0 and isinstance(exc.__cause__, IntegrityError):
                continue
            raise
    raise AssertionError("unreachable")
