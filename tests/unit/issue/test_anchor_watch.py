"""Waiting requests share one read of the batch-event mark (notary.issue.anchor_watch): a
hundred waiters do not make a hundred database polls per interval, and every one of them
wakes when a batch event is written. Real SQLite file, the migrated schema."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event

from notary.issue.anchor_watch import POLL_SECONDS, AnchorWatch
from notary.store.db import make_engine, make_sessionmaker
from notary.store.models import Batch, BatchEvent

WAITERS = 100


def _write_event(factory, root: bytes) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    with factory.begin() as session:
        batch = Batch(root=root, leaf_count=1, status="anchored", created_at=now)
        session.add(batch)
        session.flush()
        session.add(BatchEvent(batch_id=batch.id, at=now, kind="anchored", detail=""))


def test_many_waiters_share_one_read_and_all_wake_on_a_batch_event(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'notary.sqlite'}", upgrade=True)
    factory = make_sessionmaker(engine)
    reads = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if "batch_events" in statement and statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    watch = AnchorWatch(factory)

    async def scenario() -> tuple[list[int | None], float, float]:
        start = await watch.mark()
        deadline = time.monotonic() + 30
        waiting = [asyncio.create_task(watch.moved(start, deadline)) for _ in range(WAITERS)]
        quiet = 1.0
        await asyncio.sleep(quiet)  # nothing happens: they poll the shared mark
        assert not any(t.done() for t in waiting)
        reads_while_quiet = len(reads)
        written = time.monotonic()
        await asyncio.to_thread(_write_event, factory, b"\x01" * 32)
        woken = await asyncio.gather(*waiting)
        return woken, reads_while_quiet, time.monotonic() - written

    woken, reads_while_quiet, took = asyncio.run(scenario())
    # one read per interval for all of them (a read per waiter would be WAITERS times more)
    assert reads_while_quiet <= 1.0 / POLL_SECONDS * 2 + 2
    assert all(w is not None and w > 0 for w in woken)
    assert len(set(woken)) == 1
    assert took < 5.0  # they woke on the event, not at the 30 s deadline


def test_a_waiter_gives_up_at_its_deadline(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'notary.sqlite'}", upgrade=True)
    watch = AnchorWatch(make_sessionmaker(engine))

    async def scenario() -> tuple[int | None, float]:
        mark = await watch.mark()
        started = time.monotonic()
        return await watch.moved(mark, started + 0.3), time.monotonic() - started

    moved, took = asyncio.run(scenario())
    assert moved is None
    assert 0.29 <= took < 3.0
