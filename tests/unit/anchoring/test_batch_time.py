"""The batch time a consortium batch is proposed with never runs ahead of the chain's clock:
the registry refuses a batch time after the anchoring block's time, so a chain whose clock
is some seconds behind the notary's would otherwise refuse every anchor (seen in CI, where
a session devnet ran 12 s behind). A fake reader injects the skew, which a shared devnet
cannot be given without disturbing other tests."""

from __future__ import annotations

import time
from typing import Any, cast

from notary.anchoring.endorsement import EndorsementRound
from notary.errors import ChainUnavailableError


class Clock:
    def __init__(self, offset: int | None) -> None:
        self.offset = offset

    def pending_time(self) -> int:
        if self.offset is None:
            raise ChainUnavailableError("the node does not answer")
        return int(time.time()) + self.offset


def _round(offset: int | None) -> EndorsementRound:
    return EndorsementRound(cast(Any, None), cast(Any, Clock(offset)))


def test_a_chain_clock_behind_ours_sets_the_batch_time() -> None:
    now = int(time.time())
    assert _round(-12)._batch_time(now) <= now - 11


def test_a_chain_clock_ahead_or_silent_leaves_ours() -> None:
    now = int(time.time())
    assert _round(+30)._batch_time(now) == now
    assert _round(None)._batch_time(now) == now
