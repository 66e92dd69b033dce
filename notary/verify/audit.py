"""Auditing from public data alone: anchors by sequence and time, the log head, manifests.

Like the verifier, this needs no database: only the registry's views and, to rebuild a batch
tree from its manifest, an IPFS node. Anchors are in block
order, so their times never decrease with the sequence number, which lets a time range be
found by binary search over `rootAt` and `anchorOf`. The log head's rule is
notary.core.loghead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from notary.chain.registry import OnChainAnchor, RegistryReader
from notary.core import manifest
from notary.core.loghead import log_head
from notary.core.merkle import build_tree
from notary.errors import NotFoundError, ValidationError
from notary.ipfs.client import IpfsStore

MAX_AUDIT_PAGE: Final = 1000


def by_sequence(registry: RegistryReader, first: int, count: int) -> list[OnChainAnchor]:
    """Anchors first .. first+count-1 (1-based), as far as they exist."""
    if first < 1 or not 1 <= count <= MAX_AUDIT_PAGE:
        raise ValidationError(f"first must be >= 1 and count between 1 and {MAX_AUDIT_PAGE}")
    last = min(registry.anchor_count(), first + count - 1)
    return [registry.anchor_of(registry.root_at(s)) for s in range(first, last + 1)]


def _time_at(registry: RegistryReader, sequence: int) -> int:
    return registry.anchor_of(registry.root_at(sequence)).timestamp


def first_at_or_after(registry: RegistryReader, timestamp: int) -> int:
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
    registry: RegistryReader, since: int, until: int, limit: int = MAX_AUDIT_PAGE
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


@dataclass(frozen=True)
class Rebuild:
    """The result of rebuilding a batch tree from its public manifest."""

    ok: bool
    reason: str
    root: bytes
    sequence: int
    manifest_cid: str
    leaf_count: int


def rebuild(registry: RegistryReader, ipfs: IpfsStore, root: bytes) -> Rebuild:
    """Fetch the manifest the chain names for `root`, rebuild the tree, compare.

    Uses the chain and IPFS only. NotFoundError when the root is not anchored;
    ValidationError when the anchor names no manifest.
    """
    record = registry.anchor_of(root)
    if record.sequence == 0:
        raise NotFoundError(f"root 0x{root.hex()} is not anchored in {registry.address}")
    if not record.manifest:
        raise ValidationError(f"anchor #{record.sequence} names no manifest")

    def result(ok: bool, reason: str) -> Rebuild:
        return Rebuild(ok, reason, root, record.sequence, record.manifest, record.leaf_count)

    data = bytearray()
    for chunk in ipfs.cat(record.manifest):
        data += chunk
        if len(data) > manifest.MAX_MANIFEST_BYTES:
            return result(False, "the manifest is larger than any batch could need")
    if manifest.cid_of(bytes(data)) != record.manifest:
        return result(False, "the IPFS node returned bytes that do not hash to the manifest CID")
    try:
        parsed = manifest.decode(bytes(data))
    except ValidationError as exc:
        return result(False, f"the manifest is malformed: {exc}")
    tree = build_tree(list(parsed.leaves))
    if tree.leaves != parsed.leaves:
        return result(False, "the manifest's leaves are not in tree order")
    if len(parsed.leaves) != record.leaf_count:
        return result(
            False,
            f"the manifest has {len(parsed.leaves)} leaves, the anchor says {record.leaf_count}",
        )
    if tree.root != root or parsed.root != root:
        return result(
            False, f"the manifest's leaves rebuild root 0x{tree.root.hex()}, not the anchored one"
        )
    return result(True, f"the manifest rebuilds the anchored root from {record.leaf_count} leaves")


def check_log(registry: RegistryReader) -> tuple[bool, int]:
    """Recompute the log head from rootAt(1..anchorCount()); (matches, anchor count)."""
    count = registry.anchor_count()
    roots = [registry.root_at(s) for s in range(1, count + 1)]
    return log_head(roots) == registry.log_head(), count
