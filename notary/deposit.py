"""Recording deposits durably: nothing is acknowledged before its row is committed.

Idempotency: the same organization depositing the same SHA-256 again gets the existing
evidence back (`created=False`); an Idempotency-Key replayed with the same content gets the
same evidence, and with other content a ConflictError. A bulk request is one transaction:
all of it is recorded, or (on invalid input) none of it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from notary.core.certificate import sm3_leaf_value
from notary.core.leaf import Leaf, Metadata, metadata_digest, validate_metadata
from notary.errors import ConflictError, StorageError, ValidationError
from notary.orgs import OrgView
from notary.store.db import transaction
from notary.store.models import Evidence, EvidenceEvent, EvidenceStatus, EvidenceTag

MAX_BULK_ITEMS: Final = 10_000
"""Most hashes in one bulk request (one transaction, about 2 MB of JSON)."""
MAX_IDEMPOTENCY_KEY_LENGTH: Final = 128

Kind = Literal["file", "hash"]


@dataclass(frozen=True)
class DepositRequest:
    """One thing to deposit: content hashes plus metadata."""

    sha256: bytes
    sm3: bytes | None
    metadata: Metadata
    kind: Kind
    idempotency_key: str | None = None


@dataclass(frozen=True)
class DepositOutcome:
    public_id: str
    created: bool


def depositor_of(org: OrgView) -> str:
    """The depositor identity written into leaves: the organization's slug."""
    return f"org:{org.slug}"


def leaf_of(evidence: Evidence) -> Leaf:
    """Rebuild the leaf of stored evidence (deterministic: the salt is stored)."""
    return Leaf(
        sha256=evidence.sha256,
        sm3=sm3_leaf_value(evidence.sm3),
        metadata_digest=metadata_digest(evidence.metadata_json),
        depositor=evidence.depositor,
        salt=evidence.salt,
    )


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


def _record(
    session: Session, org: OrgView, request: DepositRequest, metadata: Metadata, now: datetime
) -> DepositOutcome:
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
            return DepositOutcome(replay.public_id, created=False)
    existing = session.scalar(
        select(Evidence).where(
            Evidence.organization_id == org.id, Evidence.sha256 == request.sha256
        )
    )
    if existing is not None:
        return DepositOutcome(existing.public_id, created=False)
    evidence = Evidence(
        public_id="ev_" + secrets.token_hex(12),
        organization_id=org.id,
        sha256=request.sha256,
        sm3=request.sm3,
        metadata_json=metadata,
        depositor=depositor_of(org),
        salt=secrets.token_bytes(32),
        idempotency_key=request.idempotency_key,
        kind=request.kind,
        status=EvidenceStatus.PENDING.value,
        received_at=now,
    )
    evidence.leaf_hash = leaf_of(evidence).hash()
    session.add(evidence)
    session.flush()
    session.add_all(
        EvidenceTag(evidence_id=evidence.id, tag=t) for t in sorted(set(_tags(metadata)))
    )
    session.add(
        EvidenceEvent(
            evidence_id=evidence.id,
            at=now,
            kind="received",
            detail=f"{request.kind} deposit recorded",
        )
    )
    return DepositOutcome(evidence.public_id, created=True)


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
        now = datetime.now(UTC)
        try:
            with transaction(factory) as session:
                return [_record(session, org, r, m, now) for r, m in checked]
        except StorageError as exc:
            # a concurrent request inserted the same content first: read it on the retry
            if attempt == 0 and isinstance(exc.__cause__, IntegrityError):
                continue
            raise
    raise AssertionError("unreachable")
