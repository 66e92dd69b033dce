"""Crash points for the crash tests: `NOTARY_CRASH_AT=<name>` makes the process kill -9 itself.

The batching cycle has windows (between two commits, between storing a transaction and
sending it) that an outside `kill -9` hits only by luck. A named crash point hits them every
time. Unset, a crash point costs one dictionary lookup and does nothing.
"""

from __future__ import annotations

import os
import signal
from typing import Final, Literal

CrashPoint = Literal["after_batch_formed", "after_tx_signed", "after_tx_sent"]
ENV: Final = "NOTARY_CRASH_AT"
PARENT_ENV: Final = "NOTARY_ANCHORING_PARENT"
"""The pid a crash point kills first: set in the anchoring process (notary.anchoring.process)
to the service it belongs to, so that the whole notary crashes at the point."""


def crash_point(name: CrashPoint) -> None:
    """Die here, as kill -9 would, when NOTARY_CRASH_AT names this point. In the anchoring
    process the service it belongs to dies first: the whole notary crashes at this point."""
    if os.environ.get(ENV) == name:
        parent = os.environ.get(PARENT_ENV)
        if parent is not None:
            os.kill(int(parent), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
