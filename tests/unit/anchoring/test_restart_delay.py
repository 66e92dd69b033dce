"""The anchoring process's restart pause: grows while it keeps dying, resets after health."""

from __future__ import annotations

from notary.anchoring.process import HEALTHY_SECONDS, MAX_RESTART_SECONDS, RestartDelay


def test_pause_doubles_while_the_process_keeps_dying_young() -> None:
    delay = RestartDelay(first=1.0, limit=8.0, healthy=60.0)
    assert [delay.after(0.5) for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_pause_starts_over_after_a_healthy_run() -> None:
    delay = RestartDelay()
    for _ in range(10):
        delay.after(0.1)
    assert delay.after(0.1) == MAX_RESTART_SECONDS
    assert delay.after(HEALTHY_SECONDS) == 1.0  # it ran a healthy minute: back to the start
    assert delay.after(HEALTHY_SECONDS - 1) == 2.0  # dying young again: growing again
