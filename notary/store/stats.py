"""Figures read from the database for the metrics (notary.ops.metrics), at scrape time.

Read from the database rather than counted in the anchoring process, so nothing is lost when
that process is killed or restarted and every API process of a shared database reports the
same figures. Each read uses an index or a primary-key range, so a scrape costs a few small
queries whatever the number of deposits:
- what waits (deposits not yet anchored, pins pending, batches under way) is counted
  through the status and pin-state indexes: those rows are few;
- the batch histograms (size, anchor latency) never change once a batch is anchored, so
  BatchHistograms keeps the counts of the batches below the lowest one still under way and
  adds only the newer ones at each scrape. After a restart the first scrape aggregates the
  whole batches table once, in SQL. A batch anchored again after its anchor vanished from
  the chain (notary.anchoring.reconcile) keeps the latency it was first counted with.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final, cast

from sqlalchemy import ColumnElement, Float, Table, and_, case, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session, sessionmaker

from notary.ops.metrics import Buckets, bucketed
from notary.store.models import Batch, BatchStatus, Evidence, EvidenceStatus, PinState

BATCH_SIZE_BOUNDS: Final = (1, 10, 100, 1_000, 10_000, 100_000)
"""Leaves per batch (the default largest batch is 10,000)."""
ANCHOR_LATENCY_BOUNDS: Final = (0.5, 1, 2, 5, 10, 30, 60, 300, 1_800, 3_600)
"""Seconds from a batch being formed to its anchor being final."""

_EVIDENCE = cast(Table, Evidence.__table__)
_BATCHES = cast(Table, Batch.__table__)
WAITING: Final = (
    EvidenceStatus.PENDING.value,
    EvidenceStatus.BATCHED.value,
    EvidenceStatus.CONFIRMING.value,
)
UNDER_WAY: Final = (
    BatchStatus.BUILT.value,
    BatchStatus.AWAITING_ENDORSEMENT.value,
    BatchStatus.SIGNED.value,
    BatchStatus.CONFIRMING.value,
)


def deposits_waiting(factory: sessionmaker[Session]) -> dict[str, float]:
    """Deposits not anchored yet, by status (pending, batched, confirming)."""
    found = dict.fromkeys(WAITING, 0.0)
    with factory() as session:
        rows = session.execute(
            select(_EVIDENCE.c.status, func.count())
            .where(_EVIDENCE.c.status.in_(WAITING))
            .group_by(_EVIDENCE.c.status)
        )
        found.update({status: float(n) for status, n in rows})
    return found


def oldest_pending_seconds(factory: sessionmaker[Session]) -> float:
    """Age of the oldest deposit waiting for a batch (0 when none waits): grows without
    bound when the anchoring process is down or stuck."""
    with factory() as session:
        oldest = session.scalar(
            select(func.min(_EVIDENCE.c.received_at)).where(
                _EVIDENCE.c.status == EvidenceStatus.PENDING.value
            )
        )
    if not isinstance(oldest, datetime):
        return 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return max((datetime.now(UTC) - oldest).total_seconds(), 0.0)


def pins(factory: sessionmaker[Session]) -> dict[str, float]:
    """Files waiting to be pinned (pending) and files whose pinning failed for good."""
    found = {PinState.PENDING.value: 0.0, PinState.FAILED.value: 0.0}
    with factory() as session:
        rows = session.execute(
            select(_EVIDENCE.c.pin_state, func.count())
            .where(_EVIDENCE.c.pin_state.in_(list(found)))
            .group_by(_EVIDENCE.c.pin_state)
        )
        found.update({state: float(n) for state, n in rows})
    return found


def batches_under_way(factory: sessionmaker[Session]) -> dict[str, float]:
    """Batches formed but not final yet, by status (built, awaiting_endorsement, signed,
    confirming)."""
    found = dict.fromkeys(UNDER_WAY, 0.0)
    with factory() as session:
        rows = session.execute(
            select(_BATCHES.c.status, func.count())
            .where(_BATCHES.c.status.in_(UNDER_WAY))
            .group_by(_BATCHES.c.status)
        )
        found.update({status: float(n) for status, n in rows})
    return found


def _seconds_between(
    session: Session, start: ColumnElement[datetime], end: ColumnElement[datetime]
) -> ColumnElement[float]:
    """end - start in seconds, in the database's own dialect (timestamps stored in UTC)."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return sql_cast(func.extract("epoch", end - start), Float)


def _bucket_counts(
    column: ColumnElement[float] | ColumnElement[int], bounds: Sequence[float]
) -> list[ColumnElement[int]]:
    """count(*) per bucket of `column`: one per bound (lower bound exclusive) and one above."""
    columns: list[ColumnElement[int]] = []
    lower: float | None = None
    for bound in bounds:
        inside = column <= bound if lower is None else and_(column > lower, column <= bound)
        columns.append(func.sum(case((inside, 1), else_=0)))
        lower = bound
    columns.append(func.sum(case((column > bounds[-1], 1), else_=0)))
    return columns


_SIZES: Final = len(BATCH_SIZE_BOUNDS) + 1
_LATENCIES: Final = len(ANCHOR_LATENCY_BOUNDS) + 1
_ROW: Final = _SIZES + 1 + _LATENCIES + 1
"""An aggregate row: per size bucket, size sum, per latency bucket, latency sum."""


class BatchHistograms:
    """Size and anchor latency of anchored batches, kept incrementally (see the module)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self._lock = threading.Lock()
        self._upto = 0
        """Every batch with an id up to this one is anchored and counted in `_kept`."""
        self._kept = [0.0] * _ROW

    def _aggregate(self, session: Session, low: int, high: int | None) -> list[float]:
        """The aggregate row (_ROW) of the anchored batches with low < id <= high."""
        latency = _seconds_between(session, _BATCHES.c.created_at, _BATCHES.c.anchored_at)
        size = _BATCHES.c.leaf_count
        where = [_BATCHES.c.id > low, _BATCHES.c.status == BatchStatus.ANCHORED.value]
        if high is not None:
            where.append(_BATCHES.c.id <= high)
        row = session.execute(
            select(
                *_bucket_counts(size, BATCH_SIZE_BOUNDS),
                func.sum(size),
                *_bucket_counts(latency, ANCHOR_LATENCY_BOUNDS),
                func.sum(latency),
            ).where(*where)
        ).one()
        return [float(v or 0) for v in row]

    def read(self) -> tuple[Buckets, Buckets]:
        """(batch sizes, anchor latencies) of every anchored batch."""
        with self._lock, self.factory() as session:
            first_open = session.scalar(
                select(func.min(_BATCHES.c.id)).where(
                    _BATCHES.c.status != BatchStatus.ANCHORED.value
                )
            )
            newest = session.scalar(select(func.max(_BATCHES.c.id))) or 0
            upto = newest if first_open is None else first_open - 1
            if upto > self._upto:  # final now: add them to the kept totals
                fixed = self._aggregate(session, self._upto, upto)
                self._kept = [a + b for a, b in zip(self._kept, fixed, strict=True)]
                self._upto = upto
            tail = self._aggregate(session, self._upto, None)  # anchored above one under way
            row = [a + b for a, b in zip(self._kept, tail, strict=True)]
        sizes = [int(v) for v in row[:_SIZES]]
        latencies = [int(v) for v in row[_SIZES + 1 : _SIZES + 1 + _LATENCIES]]
        return (
            bucketed(BATCH_SIZE_BOUNDS, sizes, row[_SIZES]),
            bucketed(ANCHOR_LATENCY_BOUNDS, latencies, row[-1]),
        )
