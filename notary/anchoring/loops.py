"""The background loop shared by the batcher and the pinner: cycles with backoff."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Final

MAX_BACKOFF_SECONDS: Final = 10.0


def run_with_backoff(
    cycle: Callable[[], object],
    stop: threading.Event,
    poll_seconds: float,
    pause_on: type[Exception],
    log: logging.Logger,
    what: str,
) -> None:
    """Call `cycle` until `stop` is set, every `poll_seconds`; after a failure wait twice as
    long (up to MAX_BACKOFF_SECONDS). `pause_on` (its dependency is down) is a warning,
    anything else is logged with its traceback: the loop itself never dies."""
    backoff = poll_seconds
    while not stop.is_set():
        try:
            cycle()
            backoff = poll_seconds
        except pause_on as exc:
            log.warning("%s paused: %s", what, exc)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        except Exception:
            log.exception("%s cycle failed", what)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        stop.wait(backoff)
