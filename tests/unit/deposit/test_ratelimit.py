"""The per-organization token bucket."""

from __future__ import annotations

import pytest

from notary.deposit.ratelimit import RateLimiter
from notary.errors import RateLimitedError


class Clock:
    """Time that moves only when the test says: the refill arithmetic, not the scheduler."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refusal_then_refill() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=20, burst=3, clock=clock)
    for _ in range(3):
        limiter.take(1)
    with pytest.raises(RateLimitedError) as refused:
        limiter.take(1)
    assert refused.value.retry_after == 1  # 1/20 s rounded up to whole seconds
    limiter.take(2)  # another organization has its own bucket
    clock.now += 0.06  # one request's worth at 20/s
    limiter.take(1)
    with pytest.raises(RateLimitedError):
        limiter.take(1)


def test_sustained_rate_is_the_configured_one() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=200, burst=1, clock=clock)
    accepted, started = 0, clock.now
    while clock.now - started < 0.5:
        try:
            limiter.take(7)
            accepted += 1
        except RateLimitedError:
            clock.now += 0.001
    assert 80 <= accepted <= 120  # 200/s for 0.5 s, plus the one of the burst


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate=0, burst=1)
    with pytest.raises(ValueError):
        RateLimiter(rate=1, burst=0)
