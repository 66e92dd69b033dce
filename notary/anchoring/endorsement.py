"""The endorsement round of a batch on a ConsortiumRegistry (docs/consortium.md).

A BUILT batch whose manifest is pinned is *proposed*: it gets a batch time (this notary's
clock) and the status AWAITING_ENDORSEMENT. The endorser processes see it through
GET /v1/consortium/proposals, check it on their own, and post EIP-712 endorsements, which
the service stores only when they recover to a current ENDORSER (notary.consortium). Once
k endorsements of the current proposal are stored, the batcher signs the anchor with them
(sorted by signer, as the registry wants) and goes on exactly as for a single-operator
registry: the raw transaction is stored before it is sent.

While fewer than k endorsers answer, the batch waits (deposits keep being accepted and
batched). The registry refuses a batch time older than MAX_BATCH_AGE (3600 s) at the
anchoring block, so a proposal older than NOTARY_CONSORTIUM_PROPOSAL_SECONDS is made
again with a fresh batch time, and the endorsements of the old one are discarded.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from notary.anchoring.reconcile import events
from notary.chain.consortium import ConsortiumReader
from notary.chain.consortium import Endorsement as OnChainEndorsement
from notary.chain.eip712 import Batch as SignedBatch
from notary.chain.eip712 import Role, sorted_signatures
from notary.errors import ChainError
from notary.store.db import transaction
from notary.store.models import Batch, BatchStatus, Endorsement

log = logging.getLogger("notary.anchoring.endorsement")

MAX_BATCH_AGE: Final = 3600
"""The registry's window (ConsortiumRegistry.MAX_BATCH_AGE)."""


def signed_batch(batch: Batch) -> SignedBatch:
    """What the endorsers sign of a proposed batch."""
    assert batch.batch_time is not None
    return SignedBatch(batch.root, batch.leaf_count, batch.manifest, batch.batch_time)


class EndorsementRound:
    """Proposes batches and says when one has its k endorsements."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        reader: ConsortiumReader,
        proposal_seconds: float = 3000,
    ) -> None:
        self.factory = factory
        self.reader = reader
        self.proposal_seconds = min(proposal_seconds, MAX_BATCH_AGE - 60)

    def signatures(self, batch: Batch) -> list[bytes] | None:
        """The sorted endorsements to anchor `batch` with, or None while it waits (not
        pinned yet, just (re-)proposed, or fewer than k endorsements)."""
        if not batch.manifest_pinned:
            return None  # the endorsers fetch the manifest from IPFS: the pinner comes first
        now = int(time.time())
        if batch.batch_time is None or now - batch.batch_time > self.proposal_seconds:
            self._propose(batch.id, self._batch_time(now), again=batch.batch_time is not None)
            return None
        if batch.status == BatchStatus.BUILT.value:  # its transaction was dropped: wait again
            self._set_awaiting(batch.id)
        with transaction(self.factory) as session:
            rows = session.scalars(
                select(Endorsement).where(
                    Endorsement.batch_id == batch.id,
                    Endorsement.batch_time == batch.batch_time,
                    Endorsement.registry_address == self.reader.address,
                )
            ).all()
            signed = [(r.signer, r.signature) for r in rows]
        k = self.reader.threshold()
        if len(signed) < k:
            return None
        # a member removed since it endorsed no longer counts (the registry would refuse)
        current = [(s, sig) for s, sig in signed if self.reader.member(s).role is Role.ENDORSER]
        if len(current) < k:
            return None
        return sorted_signatures(current)

    def _batch_time(self, now: int) -> int:
        """The batch time to propose: this notary's clock, or the chain's when that is
        behind (the registry refuses a batch time after the anchoring block's time; a chain
        clock some seconds behind ours would make every anchor fail)."""
        try:
            return min(now, self.reader.pending_time())
        except ChainError:
            return now  # the chain is not answering: nothing is anchored meanwhile anyway

    def _propose(self, batch_id: int, now: int, *, again: bool) -> None:
        with transaction(self.factory) as session:
            row = session.get(Batch, batch_id)
            assert row is not None
            row.status = BatchStatus.AWAITING_ENDORSEMENT.value
            row.batch_time = now
            session.execute(delete(Endorsement).where(Endorsement.batch_id == batch_id))
            when = datetime.fromtimestamp(now, UTC).isoformat()
            events(
                session,
                batch_id,
                "reproposed" if again else "proposed",
                (
                    "the proposal got too old for the registry's window before k endorsements "
                    "came; proposed again with batch time "
                    if again
                    else "proposed to the consortium's endorsers with batch time "
                )
                + f"{now} ({when}); waiting for {self.reader.threshold()} endorsements",
            )
        log.info("batch %s proposed (batch time %s)", batch_id, now)

    def _set_awaiting(self, batch_id: int) -> None:
        with transaction(self.factory) as session:
            row = session.get(Batch, batch_id)
            assert row is not None
            row.status = BatchStatus.AWAITING_ENDORSEMENT.value

    def on_chain(self, root: bytes) -> OnChainEndorsement:
        """What the registry recorded with the anchor of `root`: batch time, k, endorsers."""
        return self.reader.endorsement_of(root)

    @staticmethod
    def keep_recorded(session: Session, batch: Batch, recorded: OnChainEndorsement) -> None:
        """Keep exactly the endorsements the registry recorded with the anchor (the
        certificate carries them) and the k in force; the batch time is the anchored one."""
        signers = {s.lower() for s in recorded.endorsers}
        for row in session.scalars(select(Endorsement).where(Endorsement.batch_id == batch.id)):
            if row.signer.lower() not in signers or row.batch_time != recorded.batch_time:
                session.delete(row)
        batch.batch_time = recorded.batch_time
        batch.endorsement_threshold = recorded.threshold
