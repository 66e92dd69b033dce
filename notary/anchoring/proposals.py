"""The notary's side of the endorsement round: what the endorsers see and what they send.

The service (and through it GET /v1/consortium/proposals, POST .../endorsements, POST
/v1/consortium/reports) lists the batches awaiting endorsement, stores endorsements that
recover to a current ENDORSER of the registry, and records an endorser's signed refusal
in the batch's history (so every deposit in it shows who refused and why) and its signed
heartbeat as "last seen". No API key is involved: each message is an EIP-712 signature of
a member, checked against the registry's current members.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from notary.anchoring.endorsement import signed_batch
from notary.anchoring.key_changes import KeyChanges
from notary.anchoring.reconcile import events
from notary.chain.consortium import ConsortiumReader, Member
from notary.chain.eip712 import Report, Role, recover_endorser, recover_reporter
from notary.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from notary.store.db import transaction
from notary.store.models import Batch, BatchStatus, Endorsement, EndorserContact

MAX_REPORT_SKEW_SECONDS: Final = 300
"""A report's sent_at must be within this of the notary's clock (no stale replays)."""
SEEN_RECENTLY_SECONDS: Final = 60.0
"""An endorser heard from within this is "seen recently" in /v1/ready."""
MEMBER_CACHE_SECONDS: Final = 5.0


@dataclass(frozen=True)
class Proposal:
    """A batch awaiting endorsement, as an endorser needs it to check and sign."""

    root: bytes
    leaf_count: int
    manifest: str
    batch_time: int
    chain_id: int
    registry: str
    endorsements: int
    threshold: int


@dataclass(frozen=True)
class EndorserSeen:
    address: str
    name: str
    last_seen: datetime | None
    last_word: str


def _now() -> datetime:
    return datetime.now(UTC)


class Proposals:
    """Proposals, endorsements and endorser reports of one ConsortiumRegistry."""

    def __init__(self, factory: sessionmaker[Session], reader: ConsortiumReader) -> None:
        self.factory = factory
        self.reader = reader
        self._chain_id: int | None = None
        self._members: dict[str, Member] = {}
        self._members_at = -MEMBER_CACHE_SECONDS - 1.0
        self.key_changes = KeyChanges(factory, reader, self._endorser, self.chain_id)
        """Depositor key changes, approved by the same endorsers (notary.anchoring.key_changes)."""

    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self.reader.chain_id()
        return self._chain_id

    def _endorser(self, address: str) -> Member:
        """The member record of a current ENDORSER; ForbiddenError for anyone else. The
        member list is read from the chain at most every MEMBER_CACHE_SECONDS, so a flood
        of posts signed by strangers costs a signature recovery each, not a chain call."""
        now = time.monotonic()
        if now - self._members_at > MEMBER_CACHE_SECONDS:
            self._members = {m.account.lower(): m for m in self.reader.members()}
            self._members_at = now
        member = self._members.get(address.lower())
        if member is None or member.role is not Role.ENDORSER:
            raise ForbiddenError(
                f"{address} is not a current endorser of the registry {self.reader.address}"
            )
        return member

    def pending(self) -> list[Proposal]:
        """Batches awaiting endorsement, oldest first."""
        k = self.reader.threshold()
        chain_id = self.chain_id()
        with transaction(self.factory) as session:
            rows = session.scalars(
                select(Batch)
                .where(Batch.status == BatchStatus.AWAITING_ENDORSEMENT.value)
                .order_by(Batch.id)
                .limit(100)
            ).all()
            counts = dict(
                session.execute(
                    select(Endorsement.batch_id, func.count(Endorsement.id))
                    .where(Endorsement.batch_id.in_([r.id for r in rows]))
                    .group_by(Endorsement.batch_id)
                ).all()
            )
            return [
                Proposal(
                    r.root,
                    r.leaf_count,
                    r.manifest,
                    int(r.batch_time or 0),
                    chain_id,
                    self.reader.address,
                    int(counts.get(r.id, 0)),
                    k,
                )
                for r in rows
            ]

    def awaiting(self) -> int:
        with transaction(self.factory) as session:
            return int(
                session.scalar(
                    select(func.count(Batch.id)).where(
                        Batch.status == BatchStatus.AWAITING_ENDORSEMENT.value
                    )
                )
                or 0
            )

    def endorse(self, root: bytes, batch_time: int, signature: bytes) -> str:
        """Store an endorsement of the current proposal of `root`; return its signer.
        NotFoundError (no such batch), ConflictError (not awaiting endorsement, or another
        batch time: a stale proposal), ValidationError (bad signature), ForbiddenError
        (not a current endorser)."""
        with transaction(self.factory) as session:
            batch = session.scalar(select(Batch).where(Batch.root == root))
            if batch is None:
                raise NotFoundError(f"no batch with root 0x{root.hex()}")
            if batch.status != BatchStatus.AWAITING_ENDORSEMENT.value:
                raise ConflictError(
                    f"batch 0x{root.hex()} is {batch.status}, not awaiting endorsement"
                )
            if batch.batch_time != batch_time:
                raise ConflictError(
                    f"batch 0x{root.hex()} is proposed with batch time {batch.batch_time}, "
                    f"not {batch_time} (proposed again since)"
                )
            signed = signed_batch(batch)
            batch_id = batch.id
        signer = recover_endorser(signature, self.chain_id(), self.reader.address, signed)
        member = self._endorser(signer)
        _again_on_conflict(
            lambda: self._store(batch_id, root, batch_time, signer, member, signature)
        )
        return signer

    def _store(
        self,
        batch_id: int,
        root: bytes,
        batch_time: int,
        signer: str,
        member: Member,
        signature: bytes,
    ) -> None:
        """Store (or replace) `signer`'s endorsement of the batch in one transaction."""
        with transaction(self.factory) as session:
            existing = session.scalar(
                select(Endorsement).where(
                    Endorsement.batch_id == batch_id, Endorsement.signer == signer
                )
            )
            if existing is not None:  # posted again (a retry): the newest signature counts
                existing.batch_time = batch_time
                existing.signature = signature
                existing.received_at = _now()
            else:
                session.add(
                    Endorsement(
                        batch_id=batch_id,
                        batch_time=batch_time,
                        registry_address=self.reader.address,
                        signer=signer,
                        organization=member.organization,
                        name=member.name[:128],
                        signature=signature,
                        received_at=_now(),
                    )
                )
            if existing is None:
                events(
                    session,
                    batch_id,
                    "endorsed",
                    f"endorsed by {member.name} ({signer}), batch time {batch_time}",
                )
            self._seen(session, signer, f"endorsed 0x{root.hex()}")

    def report(self, report: Report, signature: bytes) -> str:
        """Record an endorser's signed refusal (in the batch's history) or heartbeat
        (root zero); return the signer."""
        if abs(time.time() - report.sent_at) > MAX_REPORT_SKEW_SECONDS:
            raise ValidationError(
                f"the report was sent at {report.sent_at}: more than "
                f"{MAX_REPORT_SKEW_SECONDS} s from this notary's clock"
            )
        if len(report.refusal) > 400:
            raise ValidationError("a refusal reason has at most 400 characters")
        signer = recover_reporter(signature, self.chain_id(), self.reader.address, report)
        member = self._endorser(signer)
        _again_on_conflict(lambda: self._record_report(report, signer, member))
        return signer

    def _record_report(self, report: Report, signer: str, member: Member) -> None:
        """A heartbeat (root zero) or a refusal in the batch's history, in one transaction."""
        with transaction(self.factory) as session:
            if report.root == bytes(32):
                self._seen(session, signer, "heartbeat")
                return
            if not report.refusal:
                raise ValidationError("a report about a batch carries the refusal's reason")
            batch = session.scalar(select(Batch).where(Batch.root == report.root))
            if batch is None:
                word = f"{member.name} ({signer}) refused: {report.refusal}"
                if self.key_changes.refused(session, report.root, word):  # a key change's digest
                    self._seen(session, signer, f"refused change 0x{report.root.hex()}")
                    return
                raise NotFoundError(f"no batch with root 0x{report.root.hex()}")
            events(
                session,
                batch.id,
                "endorsement_refused",
                f"{member.name} ({signer}) refused batch time {report.batch_time}: "
                f"{report.refusal}",
            )
            self._seen(session, signer, f"refused 0x{report.root.hex()}: {report.refusal}")

    def _seen(self, session: Session, address: str, word: str) -> None:
        contact = session.get(EndorserContact, address)
        if contact is None:
            session.add(EndorserContact(address=address, last_seen=_now(), last_word=word[:512]))
        else:
            contact.last_seen = _now()
            contact.last_word = word[:512]

    def endorsers(self) -> list[EndorserSeen]:
        """Every current endorser and when it was last heard from."""
        endorsers = [m for m in self.reader.members() if m.role is Role.ENDORSER]
        with transaction(self.factory) as session:
            contacts = {
                c.address: (c.last_seen, c.last_word)
                for c in session.scalars(select(EndorserContact))
            }
        return [
            EndorserSeen(
                m.account,
                m.name,
                contacts[m.account][0].replace(tzinfo=UTC) if m.account in contacts else None,
                contacts[m.account][1] if m.account in contacts else "",
            )
            for m in endorsers
        ]

    @staticmethod
    def recently(seen: EndorserSeen) -> bool:
        return seen.last_seen is not None and _now() - seen.last_seen < timedelta(
            seconds=SEEN_RECENTLY_SECONDS
        )


def _again_on_conflict(work: Callable[[], None]) -> None:
    """Run `work` (one transaction), once more if a concurrent request took its unique row
    first (the same endorser's post arriving twice at once): the second run finds the row
    and updates it, instead of answering 503."""
    try:
        work()
    except StorageError as exc:
        if not isinstance(exc.__cause__, IntegrityError):
            raise
        work()
