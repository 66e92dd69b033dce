"""The fingerprinting workers (separate processes) and Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from notary.monitor.workers import Fingerprinter


def test_ctrl_c_does_not_kill_a_worker() -> None:
    """Ctrl-C in a terminal reaches every process of the group: a worker used to die with a
    KeyboardInterrupt traceback (and break the pool). It ignores SIGINT; the service stops
    its workers itself."""
    workers = Fingerprinter(workers=1)
    try:
        first = asyncio.run(workers.call(os.getpid))
        os.kill(first, signal.SIGINT)
        time.sleep(0.5)
        assert asyncio.run(workers.call(os.getpid)) == first  # the same worker, alive
    finally:
        workers.close()
