"""Auditing the registry from the chain alone: anchors by sequence, by time, and the log head.

Like the verifier, this needs no database: only the registry's views. Anchors are in block
order, so their times never decrease with the sequence number, which lets a time range be
found by binary search over `rootAt` and `anchorOf`.
"""

from __future__ import annotations

from typing import Final

from eth_abi.abi import encode
from eth_hash.auto import keccak

from notary.chain.registry import OnChainAnchor, Registry
from notary.errors import ValidationError

MAX_AUDIT_PAGE: Final = 1000


def by_sequence(registry: Registry, first: int, count: int) -> list[OnChainAnchor]:
    """Anchors first .. first+count-1 (1-based), as far as they exist."""
    if first < 1 or not 1 <= count <= MAX_AUDIT_PAGE:
        raise ValidationError(f"first must be >= 1 and count between 1 and {MAX_AUDIT_PAGE}")
    last = min(registry.anchor_count(), first + count - 1)
    return [registry.anchor_of(registry.root_at(s)) for s in range(first, last + 1)]


def _time_at(registry: Registry, sequence: int) -> int:
    return registry.anchor_of(registry.root_at(sequence)).timestamp


def first_at_or_after(registry: Registry, timestamp: int) -> int:
    """The smallest sequence whose block time is >= `timestamp` (count+1 if none)."""
    low, high = 1, registry.anchor_count() + 1
    while low < high:
        mid = (low + high) // 2
        if _time_at(registry, mid) < timestamp:
            low = mid + 1
        else:
            high = mid
    return low


def by_time(
    registry: Registry, since: int, until: int, limit: int = MAX_AUDIT_PAGE
) -> list[OnChainAnchor]:
    """Anchors with since <= block time < until, oldest first, at most `limit`."""
    if since >= until:
        raise ValidationError("since must be before until")
    if not 1 <= limit <= MAX_AUDIT_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_AUDIT_PAGE}")
    found: list[OnChainAnchor] = []
    sequence, count = first_at_or_after(registry, since), registry.anchor_count()
    while sequence <= count and len(found) < limit:
        anchor = registry.anchor_of(registry.root_at(sequence))
        if anchor.timestamp >= until:
            break
        found.append(anchor)
        sequence += 1
    return found


def recompute_log_head(roots: list[bytes]) -> bytes:
    """The log head after anchoring `roots` in order, as the registry computes it."""
    head = bytes(32)
    for root in roots:
        head = keccak(encode(["bytes32", "bytes32"], [head, root]))
    return head
