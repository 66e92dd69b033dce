"""The log-head rule against a second implementation (eth_utils' keccak over the raw words)."""

from __future__ import annotations

import random

from eth_utils.crypto import keccak

from notary.core.loghead import EMPTY_LOG_HEAD, log_head, next_log_head


def test_no_roots_is_the_zero_head() -> None:
    assert log_head([]) == EMPTY_LOG_HEAD == bytes(32)


def test_each_root_is_folded_into_the_previous_head_in_order() -> None:
    rng = random.Random(7)
    roots = [rng.randbytes(32) for _ in range(20)]
    head = bytes(32)
    for n, root in enumerate(roots, start=1):
        head = keccak(head + root)  # abi.encode(bytes32, bytes32) is the two words
        assert next_log_head(log_head(roots[: n - 1]), root) == head
        assert log_head(roots[:n]) == head
    assert log_head(roots[::-1]) != head
    assert log_head(iter(roots)) == head
