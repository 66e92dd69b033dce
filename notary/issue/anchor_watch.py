"""Waiting for anchors without one database poll per waiting request.

A deposit may ask to wait until it is anchored (`?wait=`). Each waiting request used to read
its evidence again every 0.1 s: a hundred waiting requests made a thousand view
queries a second, on the same two cores as the anchoring they wait for, and the measured
deposit-to-anchored latency grew by most of a second. Now one cheap query per interval, the
last batch event's id, is shared by every waiting request of the process; a request reads
its own evidence again only when that id moves (something happened to some batch: formed,
proposed, endorsed, anchored, reorganized). Batch event ids only grow, so a change is never
missed; waking for another batch's event costs one read.
"""

from __future__ import annotations

import asyncio
import time
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from notary.store.db import transaction
from notary.store.models import BatchEvent

POLL_SECONDS: Final = 0.1
"""How often the shared mark is read while any request waits."""


def _last_event(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as session:
        return session.scalar(select(func.max(BatchEvent.id))) or 0


class AnchorWatch:
    """The id of the last batch event, read at most once per POLL_SECONDS for all waiters."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self._read: tuple[float, int] | None = None  # (monotonic time of the read, mark)
        self._lock: asyncio.Lock | None = None

    async def mark(self) -> int:
        """The mark as read at most POLL_SECONDS ago. Read it BEFORE the state it guards:
        whatever changes after the read moves it."""
        cached = self._read
        if cached is not None and time.monotonic() - cached[0] < POLL_SECONDS:
            return cached[1]
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            cached = self._read
            if cached is not None and time.monotonic() - cached[0] < POLL_SECONDS:
                return cached[1]  # another waiter read it while this one queued
            started = time.monotonic()
            value = await asyncio.to_thread(_last_event, self.factory)
            self._read = (started, value)
            return value

    async def moved(self, since: int, deadline: float) -> int | None:
        """The new mark once it differs from `since`; None when `deadline` (monotonic)
        passes first."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            await asyncio.sleep(min(POLL_SECONDS, left))
            current = await self.mark()
            if current != since:
                return current
