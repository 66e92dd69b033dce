"""How stored evidence is presented and re-derived: its view and its leaf."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from notary.core.leaf import Leaf, metadata_digest, sm3_leaf_value
from notary.store.models import BatchStatus, Evidence

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


def summary(e: Evidence, history: tuple[tuple[datetime, str, str], ...] = ()) -> EvidenceView:
    """The view of `e`; its batch is loaded within the caller's session."""
    batch = e.batch
    if batch is not None and batch.status not in _ON_CHAIN:
        batch = None  # no block to show yet
    return EvidenceView(
        public_id=e.public_id,
        status=e.status,
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
    )


def leaf_of(evidence: Evidence) -> Leaf:
    """Rebuild the leaf of stored evidence (deterministic: the salt is stored)."""
    return Leaf(
        sha256=evidence.sha256,
        sm3=sm3_leaf_value(evidence.sm3),
        metadata_digest=metadata_digest(evidence.metadata_json),
        depositor=evidence.depositor,
        salt=evidence.salt,
    )
