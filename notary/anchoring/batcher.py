"""The batcher: turns durably recorded deposits into anchored batches, exactly once.

A batch moves BUILT -> SIGNED -> CONFIRMING -> ANCHORED, each step committed before the
next begins:

- BUILT: its leaves are fixed (evidence rows point at it) and its root is computed.
- SIGNED: the anchor transaction is signed and its bytes and hash are stored *before*
  it is broadcast, so after a crash we know exactly which transaction may be in flight.
- CONFIRMING: mined; the receipt's block, time and sequence are stored, but the block is
  not final yet (notary.chain.finality). No certificate yet. If the block is replaced,
  the batch follows its transaction (re-mined elsewhere) or goes back to SIGNED.
- ANCHORED: its block is final; certificates are issued.

Reconciliation (notary.anchoring.reconcile) checks ANCHORED batches against the chain: the newest
ones every cycle, all of them at start and every SWEEP_SECONDS.

Recovery (at start, and whenever a cycle fails) finishes every batch from whatever state
it is in, asking the chain rather than guessing: a root the registry already holds is
recorded from its Anchored event (never anchored twice: the registry is write-once); a
stored transaction is re-broadcast byte for byte; a transaction whose nonce was consumed
is signed anew. A batch whose anchor the chain no longer has (a reset devnet, blocks
lost in a crash, a node restored from backup) is archived as superseded, goes back to
BUILT and is anchored again, exactly once, and every deposit in it says so in its history.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from notary.anchoring.crashpoints import crash_point
from notary.anchoring.endorsement import EndorsementRound, signed_batch
from notary.anchoring.loops import run_with_backoff
from notary.anchoring.reconcile import Reconciler, clear, events
from notary.chain.artifact import published_code_hashes
from notary.chain.consortium import ConsortiumWriter
from notary.chain.finality import Finality
from notary.chain.registry import AnchorReceipt, RegistryWriter
from notary.core import manifest
from notary.core.leaf import Leaf, metadata_digest, sm3_leaf_value
from notary.errors import (
    AlreadyAnchoredError,
    AlreadyKnownError,
    ChainError,
    ChainUnavailableError,
    StuckTransactionError,
    TransactionFailedError,
)
from notary.store.db import transaction
from notary.store.models import (
    Batch,
    BatchStatus,
    Evidence,
    EvidenceEvent,
    EvidenceStatus,
    SupersededAnchor,
)

log = logging.getLogger("notary.anchoring.batcher")

MAX_CYCLE_SECONDS: Final = 5.0
"""Longest a cycle keeps forming batches before the reconciler's checks run again."""
MAX_ATTEMPTS: Final = 5
"""Tries to finish one batch in one cycle before giving up until the next cycle."""


@dataclass(frozen=True)
class BatchPolicy:
    max_leaves: int = 10_000
    interval_seconds: float = 2.0


def _now() -> datetime:
    return datetime.now(UTC)


class Batcher:
    """Forms batches from pending deposits and anchors them through `writer`."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        writer: RegistryWriter | ConsortiumWriter,
        policy: BatchPolicy | None = None,
        finality: Finality | None = None,
        proposal_seconds: float = 3000,
    ) -> None:
        self.factory = factory
        self.writer = writer
        self.policy = policy or BatchPolicy()
        reader = writer.reader()  # a ConsortiumReader has the same views and events
        self.finality = finality or Finality(reader, "auto", 0)
        self.reconciler = Reconciler(factory, reader, self.finality)
        self.endorsing: EndorsementRound | None = (
            EndorsementRound(factory, writer, proposal_seconds)
            if isinstance(writer, ConsortiumWriter)
            else None
        )
        """The endorsement round, on a ConsortiumRegistry only (notary.anchoring.endorsement)."""

    # -- one cycle ---------------------------------------------------------------------

    def run_once(self, *, force: bool = False) -> int:
        """Check anchors against the chain, finish unfinished batches, then form and anchor
        due ones. Returns how many batches were sent to the chain."""
        busy = self._has_work()
        due = self.reconciler.due(busy=busy)
        if not due and not busy:
            return 0  # nothing to anchor or check: no chain calls either
        self.check_registry()
        self.reconciler.cycle(busy=busy)
        anchored = self.recover()
        started = time.monotonic()
        while (batch_id := self._form(force=force)) is not None:
            crash_point("after_batch_formed")
            self._advance(batch_id)
            anchored += 1
            # Under a steady flow of deposits there is always another batch to form: confirm
            # each one as it goes (on a chain with immediate finality it is final now), and
            # end the cycle after a while so the reconciler's checks run again.
            self.reconciler.confirm()
            if not force and time.monotonic() - started >= MAX_CYCLE_SECONDS:
                break
        if anchored == 0:
            return 0
        self.reconciler.confirm()
        return anchored

    def run_forever(self, stop: threading.Event, poll_seconds: float = 0.2) -> None:
        """Run cycles until `stop` is set; chain errors pause anchoring with backoff."""
        run_with_backoff(self.run_once, stop, poll_seconds, ChainError, log, "anchoring")

    def _has_work(self) -> bool:
        """Pending deposits, or batches not yet final."""
        with transaction(self.factory) as session:
            pending = session.scalar(
                select(Evidence.id).where(Evidence.status == EvidenceStatus.PENDING.value).limit(1)
            )
            unfinished = session.scalar(
                select(Batch.id)
                .where(
                    Batch.status.in_(
                        [
                            BatchStatus.BUILT.value,
                            BatchStatus.AWAITING_ENDORSEMENT.value,
                            BatchStatus.SIGNED.value,
                            BatchStatus.CONFIRMING.value,
                        ]
                    )
                )
                .limit(1)
            )
        return pending is not None or unfinished is not None

    # -- checks ------------------------------------------------------------------------

    def check_registry(self) -> None:
        """Refuse to send anything to an address that does not hold the published registry."""
        expected = (
            published_code_hashes(2) if self.endorsing is not None else published_code_hashes()
        )
        if self.writer.code_hash() not in expected:
            raise ChainError(
                f"no published registry at {self.writer.address} (chain reset? run `notary deploy`)"
            )

    def check_anchors(self) -> int:
        """Check every anchored batch against the chain now; return how many were lost."""
        return self.reconciler.run(everything=True)

    # -- forming -----------------------------------------------------------------------

    def _form(self, *, force: bool) -> int | None:
        with transaction(self.factory) as session:
            count, oldest = session.execute(
                select(func.count(Evidence.id), func.min(Evidence.received_at)).where(
                    Evidence.status == EvidenceStatus.PENDING.value
                )
            ).one()
            if count == 0:
                return None
            oldest = oldest.replace(tzinfo=UTC) if oldest.tzinfo is None else oldest
            age = (_now() - oldest).total_seconds()
            if not force and count < self.policy.max_leaves and age < self.policy.interval_seconds:
                return None
            rows = session.execute(
                select(Evidence.id, Evidence.leaf_hash)
                .where(Evidence.status == EvidenceStatus.PENDING.value)
                .order_by(Evidence.id)
                .limit(self.policy.max_leaves)
            ).all()
            data, root = manifest.encode([leaf for _, leaf in rows])
            batch = Batch(
                root=root,
                leaf_count=len(rows),
                status=BatchStatus.BUILT.value,
                created_at=_now(),
                manifest=manifest.cid_of(data),
            )
            session.add(batch)
            session.flush()
            ids = [i for i, _ in rows]
            session.execute(
                update(Evidence)
                .where(Evidence.id.in_(ids))
                .values(batch_id=batch.id, status=EvidenceStatus.BATCHED.value)
            )
            events(
                session,
                batch.id,
                "batched",
                f"in batch {batch.id} ({len(rows)} leaves, root 0x{root.hex()}, "
                f"manifest {batch.manifest})",
            )
            return batch.id

    # -- advancing ---------------------------------------------------------------------

    def recover(self) -> int:
        """Finish every BUILT, AWAITING_ENDORSEMENT or SIGNED batch. Returns how many were
        looked at."""
        with transaction(self.factory) as session:
            open_ids = session.scalars(
                select(Batch.id)
                .where(
                    Batch.status.in_(
                        [
                            BatchStatus.BUILT.value,
                            BatchStatus.AWAITING_ENDORSEMENT.value,
                            BatchStatus.SIGNED.value,
                        ]
                    )
                )
                .order_by(Batch.id)
            ).all()
        for batch_id in open_ids:
            self._advance(batch_id)
        return len(open_ids)

    def _load(self, batch_id: int) -> Batch:
        with transaction(self.factory) as session:
            batch = session.get(Batch, batch_id)
            assert batch is not None
            return batch

    def _advance(self, batch_id: int) -> None:
        for _ in range(MAX_ATTEMPTS):
            batch = self._load(batch_id)
            if batch.status in (BatchStatus.CONFIRMING.value, BatchStatus.ANCHORED.value):
                return
            waiting = (BatchStatus.BUILT.value, BatchStatus.AWAITING_ENDORSEMENT.value)
            if batch.status in waiting and self.endorsing is not None:
                signatures = self.endorsing.signatures(batch)
                if signatures is None:
                    return  # waits for its endorsements; nothing is lost meanwhile
                self._sign(batch, signatures)
                continue
            if batch.status == BatchStatus.BUILT.value:
                self._sign(batch)
                continue
            if self._finish_signed(batch):
                return
        raise ChainError(f"batch {batch_id} could not be anchored after {MAX_ATTEMPTS} tries")

    def _sign(self, batch: Batch, signatures: list[bytes] | None = None) -> None:
        try:
            if isinstance(self.writer, ConsortiumWriter):
                assert signatures is not None
                signed = self.writer.sign_anchor(signed_batch(batch), signatures)
            else:
                signed = self.writer.sign_anchor(batch.root, batch.leaf_count, batch.manifest)
        except AlreadyAnchoredError:
            found = self.writer.find_anchor(batch.root)
            if found is None:
                self._reform(batch.id, batch.root)
                return
            self._record(batch.id, found)
            return
        with transaction(self.factory) as session:
            row = session.get(Batch, batch.id)
            assert row is not None
            row.status = BatchStatus.SIGNED.value
            row.raw_tx, row.tx_hash, row.nonce = signed.raw, signed.tx_hash, signed.nonce
        crash_point("after_tx_signed")

    def _finish_signed(self, batch: Batch) -> bool:
        """Drive a SIGNED batch to ANCHORED; False when it had to go back to BUILT."""
        assert batch.tx_hash is not None and batch.raw_tx is not None
        receipt = self.writer.receipt_or_none(batch.tx_hash)
        if receipt is not None and receipt["status"] == 1:
            try:
                result = self.writer.anchor_receipt(batch.root, receipt)
            except TransactionFailedError:
                # mined, but it anchored nothing in this registry: signed for another one
                # (NOTARY_REGISTRY changed since). Sign anew for the registry in use.
                log.info("batch %s: stored transaction was for another registry", batch.id)
                self._back_to_built(batch.id)
                return False
            self._record(batch.id, result)
            return True
        found = self.writer.find_anchor(batch.root)
        if found is not None:  # anchored by an earlier transaction of ours
            self._record(batch.id, found)
            return True
        if receipt is None:
            try:
                self.writer.broadcast(batch.raw_tx)
            except AlreadyKnownError:
                pass  # sent before (and not mined yet): wait for it below
            except ChainUnavailableError:
                raise  # the stored transaction may still be in flight: retry it next cycle
            except ChainError as exc:
                log.info(
                    "batch %s: stored transaction not accepted (%s); re-signing", batch.id, exc
                )
                self._back_to_built(batch.id)
                return False
            crash_point("after_tx_sent")
            try:
                receipt = self.writer.wait_for_receipt(batch.tx_hash)
                result = self.writer.anchor_receipt(batch.root, receipt)
            except TransactionFailedError:  # reverted, or anchored in another registry
                self._back_to_built(batch.id)
                return False
            except StuckTransactionError as exc:
                # it can never be mined as signed (lost with a node's pool, or behind a lost
                # nonce): sign anew with the sender's next nonce. If the old bytes are mined
                # after all, one of the two reverts (the registry is write-once per root) and
                # the batch records the anchor the chain has.
                log.warning("batch %s: %s; signing it anew", batch.id, exc)
                self._back_to_built(batch.id)
                return False
            self._record(batch.id, result)
            return True
        self._back_to_built(batch.id)  # mined but reverted, and the root is not anchored
        return False

    def _reform(self, batch_id: int, root: bytes) -> None:
        """The registry holds `root`, but the chain has no Anchored event for it: a node
        that restored its state without the block that anchored it (anvil killed -9 after
        saving its state, before saving that block). The root can never be anchored again
        (the registry is write-once) and no certificate could point to an event, so the
        batch is formed anew without its newest deposit, which goes back to pending and
        joins the next batch: both get other roots. A batch of one deposit cannot be split:
        its deposit gets a new salt instead (the salt is the operator's random choice, part
        of no certificate until the anchor, and covered by no depositor signature), which
        gives it another leaf and so another root."""
        with transaction(self.factory) as session:
            row = session.get(Batch, batch_id)
            assert row is not None
            rows = session.execute(
                select(Evidence.id, Evidence.leaf_hash)
                .where(Evidence.batch_id == batch_id)
                .order_by(Evidence.id)
            ).all()
            if row.root != root or not rows:
                raise ChainError(
                    f"registry holds root 0x{root.hex()} of batch {batch_id} but the chain "
                    "has no Anchored event for it"
                )
            changed = rows[-1].id  # the newest deposit
            if len(rows) == 1:
                kept = [(changed, self._salt_anew(session, changed))]
                detail = "given a new salt, so a new leaf"
            else:
                kept = [(r.id, r.leaf_hash) for r in rows[:-1]]
                session.execute(
                    update(Evidence)
                    .where(Evidence.id == changed)
                    .values(batch_id=None, status=EvidenceStatus.PENDING.value)
                )
                detail = f"taken out of batch {batch_id}"
            data, new_root = manifest.encode([leaf for _, leaf in kept])
            session.add(
                EvidenceEvent(
                    evidence_id=changed,
                    at=_now(),
                    kind="rebatched",
                    detail=(
                        f"{detail}: the registry holds its batch's root "
                        f"0x{root.hex()} without an Anchored event on the chain"
                    ),
                )
            )
            clear(row)
            row.root, row.leaf_count = new_root, len(kept)
            row.manifest, row.manifest_pinned = manifest.cid_of(data), False
            row.batch_time = None
            events(
                session,
                batch_id,
                "rebatched",
                f"the registry holds root 0x{root.hex()} without an Anchored event on the "
                f"chain (a node restored its state without the block that anchored it): formed "
                f"anew with {len(kept)} leaves, root 0x{new_root.hex()}, manifest {row.manifest}",
            )
        log.warning(
            "batch %s: registry holds root 0x%s without an Anchored event; formed anew",
            batch_id,
            root.hex(),
        )

    @staticmethod
    def _salt_anew(session: Session, evidence_id: int) -> bytes:
        """Give the evidence row a fresh salt; its new leaf hash."""
        evidence = session.get(Evidence, evidence_id)
        assert evidence is not None
        salt = secrets.token_bytes(32)
        leaf = Leaf(
            sha256=evidence.sha256,
            sm3=sm3_leaf_value(evidence.sm3),
            metadata_digest=metadata_digest(evidence.metadata_json),
            depositor=evidence.depositor,
            salt=salt,
        ).hash()
        evidence.salt, evidence.leaf_hash = salt, leaf
        return leaf

    def _back_to_built(self, batch_id: int) -> None:
        with transaction(self.factory) as session:
            row = session.get(Batch, batch_id)
            assert row is not None
            clear(row)

    def _record(self, batch_id: int, result: AnchorReceipt) -> None:
        """The batch's transaction is mined: CONFIRMING until its block is final."""
        a = result.anchor
        final = self.reconciler.is_final(a.block_number)
        endorsed = self.endorsing.on_chain(a.root) if self.endorsing is not None else None
        with transaction(self.factory) as session:
            row = session.get(Batch, batch_id)
            assert row is not None
            if endorsed is not None:
                EndorsementRound.keep_recorded(session, row, endorsed)
            row.status = BatchStatus.CONFIRMING.value
            row.tx_hash, row.block_hash = result.tx_hash, result.block_hash
            row.sequence, row.block_number, row.block_time = a.sequence, a.block_number, a.timestamp
            row.notary, row.registry_address = a.notary, self.writer.address
            row.chain_id = self.writer.chain_id()
            row.registry_code_hash = self.writer.code_hash()
            session.execute(
                update(Evidence)
                .where(Evidence.batch_id == batch_id)
                .values(status=EvidenceStatus.CONFIRMING.value)
            )
            found_again = session.scalars(
                select(SupersededAnchor).where(
                    SupersededAnchor.batch_id == batch_id,
                    SupersededAnchor.block_hash == result.block_hash,
                    SupersededAnchor.tx_hash == result.tx_hash,
                )
            ).all()
            for superseded in found_again:
                # the anchor was not lost after all (the node had fallen behind and caught
                # up): its certificate is the current one again, not a superseded one
                session.delete(superseded)
                events(
                    session,
                    batch_id,
                    "anchor_found",
                    f"the anchor in block {a.block_number} is on the chain again (the node "
                    "had fallen behind); its certificate is current again",
                )
            if not final:
                events(
                    session,
                    batch_id,
                    "confirming",
                    f"in block {a.block_number}, tx 0x{result.tx_hash.hex()}; the certificate "
                    f"is issued once the block is final ({self.finality.describe()})",
                )
        log.info("batch %s mined: %s leaves, block %s", batch_id, row.leaf_count, a.block_number)
