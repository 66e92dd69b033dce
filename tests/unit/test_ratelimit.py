"""The per-organization token bucket."""

from __future__ import annotations

import time

import pytest

from notary.errors import RateLimitedError
from notary.ratelimit import RateLimiter


def test_burst_then_refusal_then_refill() -> None:
    limiter = RateLimiter(rate=20, burst=3)
    for _ in range(3):
        limiter.take(1)
    with pytest.raises(RateLimitedError) as refused:
        limiter.take(1)
    assert refused.value.retry_after == 1  # 1/20 s rounded up to whole seconds
    limiter.take(2)  # another organization has its own bucket
    time.sleep(0.06)  # one request's worth at 20/s
    limiter.take(1)
    with pytest.raises(RateLimitedError):
        limiter.take(1)


def test_sustained_rate_is_the_configured_one() -> None:
    limiter = RateLimiter(rate=200, burst=1)
    accepted, started = 0, time.monotonic()
    while time.monotonic() - started < 0.5:
        try:
            limiter.take(7)
            accepted += 1
        except RateLimitedError:
            time.sleep(0.001)
    assert 80 <= accepted <= 120  # 200/s for 0.5 s, plus the one of the burst


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate=0, burst=1)
    with pytest.raises(ValueError):
        RateLimiter(rate=1, burst=0)
