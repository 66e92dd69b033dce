"""How stored evidence is presented: the caller's own evidence, one or many, with history."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import QueryableAttribute, Session, selectinload, sessionmaker

from notary.core.depositor import split_depositor
from notary.errors import NotFoundError
from notary.store.db import QUERY_CHUNK, transaction
from notary.store.models import (
    BatchEvent,
    BatchStatus,
    Evidence,
    EvidenceEvent,
    FingerprintStatus,
)
from notary.store.orgs import OrgView

_ON_CHAIN = (BatchStatus.CONFIRMING.value, BatchStatus.ANCHORED.value)


@dataclass(frozen=True)
class EvidenceView:
    """What a depositor sees of one piece of evidence."""

    public_id: str
    status: str
    kind: str
    sha256: bytes
    sm3: bytes | None
    metadata: dict[str, object]
    received_at: datetime
    batch_root: bytes | None
    block_number: int | None
    block_time: int | None
    tx_hash: bytes | None
    history: tuple[tuple[datetime, str, str], ...]
    cid: str | None = None
    pin_state: str = "none"
    pin_error: str = ""
    """Why the last pin attempt failed (empty when none did)."""
    fingerprint: tuple[str, str] | None = None
    """(status, detail) of its perceptual fingerprints (notary.monitor); in the single
    view only (None in lists)."""
    signer: str | None = None
    """The depositor key that signed the deposit (its leaf names it), None when unsigned."""


def summary(e: Evidence, history: tuple[tuple[datetime, str, str], ...] = ()) -> EvidenceView:
    """The view of `e`; its batch is loaded within the caller's session."""
    batch = e.batch
    status = e.status
    if batch is not None and batch.status == BatchStatus.AWAITING_ENDORSEMENT.value:
        status = batch.status  # batched, and its batch waits for the consortium's endorsers
    if batch is not None and batch.status not in _ON_CHAIN:
        batch = None  # no block to show yet
    return EvidenceView(
        public_id=e.public_id,
        status=status,
        kind=e.kind,
        sha256=e.sha256,
        sm3=e.sm3,
        metadata=dict(e.metadata_json),
        received_at=e.received_at,
        batch_root=batch.root if batch else None,
        block_number=batch.block_number if batch else None,
        block_time=batch.block_time if batch else None,
        tx_hash=batch.tx_hash if batch else None,
        history=history,
        cid=e.cid,
        pin_state=e.pin_state,
        pin_error=e.pin_error,
        signer=split_depositor(e.depositor)[1],
    )


def owned(session: Session, org: OrgView, public_id: str) -> Evidence:
    """The caller's evidence `public_id`; NotFoundError for another tenant's too."""
    evidence = session.scalar(select(Evidence).where(Evidence.public_id == public_id))
    if evidence is None or evidence.organization_id != org.id:
        raise NotFoundError(f"no evidence {public_id!r}")  # another tenant's id looks absent
    return evidence


def views(
    factory: sessionmaker[Session], org: OrgView, public_ids: list[str]
) -> list[EvidenceView]:
    """Views of many of the caller's evidence ids (no history), in the order given."""
    with transaction(factory) as session:
        rows = owned_rows(session, org, Evidence.public_id, public_ids)
        found = {row.public_id: summary(row) for row in rows}
    missing = [i for i in public_ids if i not in found]
    if missing:
        raise NotFoundError(f"no evidence {missing[0]!r}")
    return [found[i] for i in public_ids]


def view(factory: sessionmaker[Session], org: OrgView, public_id: str) -> EvidenceView:
    with transaction(factory) as session:
        return _view(session, owned(session, org, public_id))


def _view(session: Session, e: Evidence) -> EvidenceView:
    own = session.execute(
        select(EvidenceEvent.at, EvidenceEvent.kind, EvidenceEvent.detail).where(
            EvidenceEvent.evidence_id == e.id
        )
    ).all()
    of_batch = (
        session.execute(
            select(BatchEvent.at, BatchEvent.kind, BatchEvent.detail)
            .where(BatchEvent.batch_id == e.batch_id)
            .order_by(BatchEvent.id)
        ).all()
        if e.batch_id is not None
        else []
    )
    received = (e.received_at, "received", f"{e.kind} deposit recorded")
    later = sorted([*own, *of_batch], key=lambda event: event[0])  # stable: batch order kept
    seen = summary(e, (received, *((at, kind, detail) for at, kind, detail in later)))
    return replace(seen, fingerprint=_fingerprint(session, e))


HASH_NOT_FINGERPRINTED: Final = (
    "not_fingerprinted",
    "a hash deposit whose client sent no fingerprints",
)
"""The fingerprint status of a hash deposit whose client sent none (no row is stored)."""


def _fingerprint(session: Session, e: Evidence) -> tuple[str, str]:
    """Status and detail of the evidence's fingerprints: not_fingerprinted without a row
    (a hash deposit whose client sent none, a file deposited before early warning)."""
    row = session.get(FingerprintStatus, e.id)
    if row is not None:
        return row.status, row.detail
    if e.kind == "hash":
        return HASH_NOT_FINGERPRINTED
    return "not_fingerprinted", "deposited before files were fingerprinted"


def owned_rows(
    session: Session, org: OrgView, column: QueryableAttribute[Any], values: Sequence[Any]
) -> Iterator[Evidence]:
    """The caller's evidence rows whose `column` is one of `values` (with their batch), in
    chunks of QUERY_CHUNK values a query; in no particular order."""
    for start in range(0, len(values), QUERY_CHUNK):
        yield from session.scalars(
            select(Evidence)
            .options(selectinload(Evidence.batch))
            .where(
                Evidence.organization_id == org.id,
                column.in_(values[start : start + QUERY_CHUNK]),
            )
        )
