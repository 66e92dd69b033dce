"""Finality and reconciliation: certificates only for final anchors, none outliving them.

Two jobs, both run by the batcher's cycle (notary.anchoring.batcher):

- confirm(): a CONFIRMING batch becomes ANCHORED (certificates are issued) once its block
  is final (notary.chain.finality). If its block is replaced first (a reorganization), it
  follows its transaction to the block that holds it now, or goes back to SIGNED, so the
  stored transaction is sent again (or signed anew when its nonce was used).
- run(): ANCHORED batches are checked against the chain. A batch is intact while the block
  at its height still has the hash recorded when it was anchored: a block hash commits to
  the block's transactions and receipts and to every block before it, so the anchor
  transaction, the registry's code and its record of the root are all still there. The
  newest RECENT_BATCHES are checked at every cycle (at most every RECENT_SECONDS while
  deposits flow, every IDLE_SECONDS otherwise); all of them at start, every SWEEP_SECONDS,
  after a CONFIRMING batch's block was replaced, and whenever the chain's head is below
  the highest anchored block (the node lost blocks; looked at every busy cycle).
  Every batch is checked on its own: a newer batch at the same height never vouches for
  an older one (that shortcut once left lost anchors looking anchored forever).

A lost anchor is archived as a SupersededAnchor (the certificates issued for it stay
listed in the history, marked superseded), every deposit of the batch gets an
`anchor_lost` history entry with the reason, and the batch goes back to BUILT in the same
transaction, so it is anchored again exactly once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from notary.chain.finality import Finality
from notary.chain.registry import RegistryReader
from notary.errors import TransactionFailedError
from notary.hooks import events as hooks
from notary.store.db import transaction
from notary.store.models import (
    Batch,
    BatchEvent,
    BatchStatus,
    Evidence,
    EvidenceStatus,
    SupersededAnchor,
)

log = logging.getLogger("notary.anchoring.reconcile")

RECENT_BATCHES: Final = 16
"""Newest anchored batches checked at every cycle."""
RECENT_SECONDS: Final = 1.0
"""Shortest pause between two checks of the newest batches while deposits flow."""
IDLE_SECONDS: Final = 10.0
"""Pause between two checks of the newest batches when nothing is being anchored."""
SWEEP_SECONDS: Final = 600.0
"""Pause between two checks of every anchored batch (the first is at start)."""


def _now() -> datetime:
    return datetime.now(UTC)


def events(session: Session, batch_id: int, kind: str, detail: str) -> None:
    """Record a step in the history of every deposit of the batch (one row per batch)."""
    session.add(BatchEvent(batch_id=batch_id, at=_now(), kind=kind, detail=detail))


def clear(batch: Batch) -> None:
    """Forget everything about a batch's transaction: back to BUILT."""
    batch.status = BatchStatus.BUILT.value
    batch.tx_hash = batch.raw_tx = batch.block_hash = None
    batch.nonce = batch.sequence = batch.block_number = batch.block_time = None
    batch.anchored_at = None


def _unmined(batch: Batch) -> None:
    """Back to SIGNED: the stored transaction is kept, to be found or sent again."""
    batch.status = BatchStatus.SIGNED.value
    batch.block_hash = None
    batch.sequence = batch.block_number = batch.block_time = None


def _set_status(session: Session, batch_id: int, status: EvidenceStatus) -> None:
    session.execute(
        update(Evidence).where(Evidence.batch_id == batch_id).values(status=status.value)
    )


@dataclass(frozen=True)
class _Anchored:
    id: int
    block_number: int
    block_hash: bytes | None


class Reconciler:
    """Confirms and reconciles the batches of one database against one registry."""

    def __init__(
        self, factory: sessionmaker[Session], registry: RegistryReader, finality: Finality
    ) -> None:
        self.factory = factory
        self.registry = registry
        self.finality = finality
        self._last_recent = -float("inf")
        self._last_sweep = -float("inf")
        self._sweep_requested = False

    def due(self, *, busy: bool = True) -> Literal["sweep", "recent"] | None:
        """Which check is due now, if any."""
        now = time.monotonic()
        if self._sweep_requested or now - self._last_sweep >= SWEEP_SECONDS:
            return "sweep"
        if now - self._last_recent >= (RECENT_SECONDS if busy else IDLE_SECONDS):
            return "recent"
        return None

    def cycle(self, *, busy: bool) -> None:
        """The checks of one batcher cycle, before anything is sent: promote or follow the
        CONFIRMING batches, then check the anchored ones that are due. A chain whose head
        is below the highest anchored block lost blocks: everything is checked at once
        (a transaction sent after such a loss could wait forever behind a lost nonce)."""
        self.confirm()
        due = self.due(busy=busy)
        if due is not None:
            self.run(everything=due == "sweep")
        elif self._head_below_anchors():
            self.run(everything=True)

    def _head_below_anchors(self) -> bool:
        with transaction(self.factory) as session:
            highest = session.scalar(
                select(func.max(Batch.block_number)).where(
                    Batch.status == BatchStatus.ANCHORED.value
                )
            )
        if highest is None:
            return False
        head = self.finality.head()
        if head < highest:
            log.warning("chain head %s is below anchored block %s: checking all", head, highest)
            return True
        return False

    # -- finality ----------------------------------------------------------------------

    def is_final(self, block_number: int) -> bool:
        return block_number <= self.finality.final_block()

    def confirm(self) -> int:
        """Promote CONFIRMING batches whose block is final; returns how many."""
        with transaction(self.factory) as session:
            waiting = session.scalars(
                select(Batch).where(Batch.status == BatchStatus.CONFIRMING.value).order_by(Batch.id)
            ).all()
        if not waiting:
            return 0
        final = self.finality.final_block()
        promoted = 0
        for batch in waiting:
            assert batch.block_number is not None
            current = self.registry.block_hash_at(batch.block_number)
            if current is None and self.registry.is_syncing():
                continue  # a node catching up: it will serve the block again
            if current != batch.block_hash:
                self._replaced(batch)
                self._sweep_requested = True  # blocks were replaced: older ones too?
            elif batch.block_number <= final:
                self._promote(batch)
                promoted += 1
        return promoted

    def _promote(self, batch: Batch) -> None:
        with transaction(self.factory) as session:
            row = session.get(Batch, batch.id)
            assert row is not None
            if row.status != BatchStatus.CONFIRMING.value or row.block_hash != batch.block_hash:
                return
            row.status = BatchStatus.ANCHORED.value
            row.anchored_at = _now()
            _set_status(session, row.id, EvidenceStatus.ANCHORED)
            hooks.batch_anchored(session, row)  # webhook messages commit with the change
            events(
                session,
                row.id,
                "anchored",
                f"root anchored as #{row.sequence} in block {row.block_number}, "
                f"tx 0x{(row.tx_hash or b'').hex()}; final by {self.finality.describe()}",
            )
            newer = session.scalar(
                select(func.count(Batch.id)).where(
                    Batch.status == BatchStatus.ANCHORED.value,
                    Batch.id != row.id,
                    Batch.block_number >= row.block_number,
                    Batch.block_hash != row.block_hash,  # not a batch of the same block
                )
            )
        if newer:
            # a batch anchored at or below the height of older anchors: the chain went back
            # (blocks lost or replaced). Check everything, not only the newest.
            self._sweep_requested = True
        log.info("batch %s final: block %s", batch.id, batch.block_number)

    def _replaced(self, batch: Batch) -> None:
        """The block of a CONFIRMING batch was replaced: follow its transaction (by its
        receipt: no log search over the whole chain, which many nodes refuse)."""
        found = None
        receipt = self.registry.receipt_or_none(batch.tx_hash) if batch.tx_hash else None
        if receipt is not None and receipt["status"] == 1:
            try:
                found = self.registry.anchor_receipt(batch.root, receipt)
            except TransactionFailedError:
                found = None
        with transaction(self.factory) as session:
            row = session.get(Batch, batch.id)
            assert row is not None
            if row.status != BatchStatus.CONFIRMING.value:
                return
            was = f"block {row.block_number} (hash 0x{(row.block_hash or b'').hex()})"
            if found is None:
                _unmined(row)
                _set_status(session, row.id, EvidenceStatus.BATCHED)
                detail = f"{was} was replaced before it was final; sending the anchor again"
            else:
                a = found.anchor
                row.tx_hash, row.block_hash = found.tx_hash, found.block_hash
                row.sequence, row.block_number, row.block_time = (
                    a.sequence,
                    a.block_number,
                    a.timestamp,
                )
                detail = (
                    f"{was} was replaced before it was final; the anchor is now in block "
                    f"{a.block_number}, tx 0x{found.tx_hash.hex()}"
                )
            events(session, row.id, "reorganized", detail)
        log.warning("batch %s: %s", batch.id, detail)

    # -- reconciliation ----------------------------------------------------------------

    def run(self, *, everything: bool) -> int:
        """Check anchored batches against the chain; supersede the lost ones. Returns how
        many were lost (and will be anchored again)."""
        now = time.monotonic()
        if not everything and self._head_below_anchors():
            everything = True
        with transaction(self.factory) as session:
            query = (
                select(Batch.id, Batch.block_number, Batch.block_hash)
                .where(Batch.status == BatchStatus.ANCHORED.value)
                .order_by(Batch.block_number.desc(), Batch.id.desc())
            )
            if not everything:
                query = query.limit(RECENT_BATCHES)
            anchored = [
                _Anchored(i, number, block_hash)
                for i, number, block_hash in session.execute(query).all()
                if number is not None
            ]
        self._last_recent = now
        if everything:
            self._last_sweep = now
            self._sweep_requested = False
        hashes: dict[int, bytes | None] = {}
        lost: list[tuple[_Anchored, str]] = []
        for batch in anchored:
            # the block hash alone decides, whichever registry the batch was anchored in: a
            # batch of a registry used before (NOTARY_REGISTRY changed) stays anchored there,
            # and its certificates stay valid, as long as its block is on the chain
            if batch.block_number not in hashes:
                hashes[batch.block_number] = self.registry.block_hash_at(batch.block_number)
            current = hashes[batch.block_number]
            if current is None:
                # no block at that height: a node catching up (it says so: eth_syncing) will
                # serve it again; one that is not has lost it (a devnet reset or killed
                # before it saved its newest blocks, a node restored from an older backup)
                if not self.registry.is_syncing():
                    lost.append((batch, f"the chain has no block {batch.block_number}"))
            elif current != batch.block_hash:
                lost.append((batch, f"block {batch.block_number} is now 0x{current.hex()}"))
        for batch, reason in lost:
            self._supersede(batch, reason)
        return len(lost)

    def _supersede(self, seen: _Anchored, reason: str) -> None:
        with transaction(self.factory) as session:
            batch = session.get(Batch, seen.id)
            assert batch is not None
            if batch.status != BatchStatus.ANCHORED.value or batch.block_hash != seen.block_hash:
                return  # changed meanwhile: the next check looks again
            assert batch.chain_id is not None and batch.registry_address is not None
            assert batch.registry_code_hash is not None and batch.sequence is not None
            assert batch.notary is not None and batch.tx_hash is not None
            assert batch.block_number is not None and batch.block_hash is not None
            assert batch.block_time is not None
            session.add(
                SupersededAnchor(
                    batch_id=batch.id,
                    superseded_at=_now(),
                    reason=f"anchor lost from the chain: {reason}"[:512],
                    chain_id=batch.chain_id,
                    registry_address=batch.registry_address,
                    registry_code_hash=batch.registry_code_hash,
                    sequence=batch.sequence,
                    notary=batch.notary,
                    tx_hash=batch.tx_hash,
                    block_number=batch.block_number,
                    block_hash=batch.block_hash,
                    block_time=batch.block_time,
                    anchored_at=batch.anchored_at,
                )
            )
            detail = (
                f"anchor lost from the chain ({reason}; was #{batch.sequence} in block "
                f"{batch.block_number}, tx 0x{batch.tx_hash.hex()}); its certificate is "
                "superseded; re-anchoring"
            )
            events(session, batch.id, "anchor_lost", detail[:512])
            _set_status(session, batch.id, EvidenceStatus.BATCHED)
            clear(batch)
        log.warning("batch %s: %s", seen.id, detail)
