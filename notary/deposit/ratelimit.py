"""Per-organization request rate limits: a token bucket each, in the serving process.

`rate` requests a second on average, up to `burst` at once. One organization hammering the
API (a runaway script) then gets 429 with the time to wait, instead of slowing every other
organization down. Limits are per process: a deployment with several API processes allows
each its own rate.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Final

from notary.errors import RateLimitedError

MAX_BUCKETS: Final = 100_000
"""Organizations tracked at once (the table is cleared if a bug or an attack exceeds it)."""


class RateLimiter:
    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # org id -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, organization: int) -> None:
        """Spend one request of `organization`; RateLimitedError when it has none left."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(organization, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if tokens < 1:
                self._buckets[organization] = (tokens, now)
                wait = (1 - tokens) / self.rate
                raise RateLimitedError(
                    f"more than {self.rate:g} requests a second (burst {self.burst}); "
                    f"retry in {wait:.2f} s",
                    retry_after=max(1, math.ceil(wait)),
                )
            if len(self._buckets) >= MAX_BUCKETS and organization not in self._buckets:
                self._buckets.clear()
            self._buckets[organization] = (tokens - 1, now)
