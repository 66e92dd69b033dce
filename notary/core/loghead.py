"""The registry's append-only log head: how each anchored root extends it.

EvidenceRegistry keeps one running hash over every root in anchoring order: it starts at
32 zero bytes (EMPTY_LOG_HEAD) and each anchor sets head = keccak256(abi.encode(head,
root)) (contracts/EvidenceRegistry.sol, docs/certificate.md section 5). Recomputing it from
rootAt(1..anchorCount()) and comparing with logHead() proves that no anchor was inserted,
removed or reordered (notary.verify.audit.check_log).

WARNING: this is the contract's rule, fixed by the deployed registry; it is written here to
check the chain, not to change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from eth_abi.abi import encode

from notary.core.keccak import keccak256 as keccak

EMPTY_LOG_HEAD: Final = bytes(32)
"""The log head of a registry that has anchored nothing."""


def next_log_head(head: bytes, root: bytes) -> bytes:
    """The log head after anchoring `root` on a registry whose head was `head`."""
    return keccak(encode(["bytes32", "bytes32"], [head, root]))


def log_head(roots: Iterable[bytes]) -> bytes:
    """The log head after anchoring `roots` in order, as the registry computes it."""
    head = EMPTY_LOG_HEAD
    for root in roots:
        head = next_log_head(head, root)
    return head
