"""What an endorser checks before it signs a batch (docs: README, "Consortium: endorsers
and the pipeline"). Pure functions: the node fetches, these decide.

A proposal is refused, with the reason, when:
- it names another chain or registry than the one this endorser serves;
- the batch time is ahead of this endorser's clock by more than `future_seconds`, or older
  than `max_age_seconds` (the registry's own window is 3600 s at the anchoring block);
- the leaf count is 0 or beyond 2^32 - 1, or the manifest reference is empty or longer than
  the registry's 256 bytes;
- the manifest fetched from IPFS is larger than its leaf count allows, does not hash to the
  CID the proposal names, is not a version 1 batch manifest, does not have leaf_count
  leaves, or its leaves do not rebuild the proposed root (the root is recomputed here from
  the leaf hashes: nothing the notary says about the tree is trusted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from notary.core import manifest
from notary.core.merkle import build_tree
from notary.errors import ValidationError

MAX_MANIFEST_REFERENCE: Final = 256
BYTES_PER_LEAF: Final = 69
"""A manifest spends 69 bytes a leaf ("0x" + 64 hex digits, quotes, comma)."""
MANIFEST_OVERHEAD: Final = 4096


@dataclass(frozen=True)
class Proposal:
    """A batch as GET /v1/consortium/proposals lists it."""

    root: bytes
    leaf_count: int
    manifest: str
    batch_time: int
    chain_id: int
    registry: str


@dataclass(frozen=True)
class Tolerance:
    """How far a batch time may be from this endorser's clock."""

    future_seconds: int = 30
    """Clock skew allowed ahead (the registry refuses any batch time after the block's)."""
    max_age_seconds: int = 3300
    """Oldest batch time signed: under the registry's 3600 s, leaving time to anchor."""


def check_header(
    p: Proposal, now: int, tolerance: Tolerance, chain_id: int | None, registry: str | None
) -> str | None:
    """The refusal reason from the proposal alone (no manifest yet), or None."""
    if chain_id is not None and p.chain_id != chain_id:
        return f"proposal for chain {p.chain_id}; this endorser serves chain {chain_id}"
    if registry is not None and p.registry.lower() != registry.lower():
        return f"proposal for registry {p.registry}; this endorser serves {registry}"
    if p.batch_time > now + tolerance.future_seconds:
        return (
            f"batch time {p.batch_time} is {p.batch_time - now} s ahead of this endorser's "
            f"clock ({now}); at most {tolerance.future_seconds} s allowed"
        )
    if now - p.batch_time > tolerance.max_age_seconds:
        return (
            f"batch time {p.batch_time} is {now - p.batch_time} s behind this endorser's "
            f"clock ({now}); at most {tolerance.max_age_seconds} s allowed"
        )
    if not 0 < p.leaf_count < 2**32:
        return f"leaf count {p.leaf_count} is not between 1 and 2^32 - 1"
    if not p.manifest or len(p.manifest.encode()) > MAX_MANIFEST_REFERENCE:
        return "the manifest reference is empty or longer than 256 bytes"
    return None


def manifest_limit(leaf_count: int) -> int:
    """The most bytes a manifest of `leaf_count` leaves can have."""
    return leaf_count * BYTES_PER_LEAF + MANIFEST_OVERHEAD


def check_manifest(p: Proposal, data: bytes) -> str | None:
    """The refusal reason from the fetched manifest bytes, or None when they rebuild the
    proposed root with the proposed leaf count."""
    if len(data) > manifest_limit(p.leaf_count):
        return f"the manifest has {len(data)} bytes: too many for {p.leaf_count} leaves"
    cid = manifest.cid_of(data)
    if cid != p.manifest:
        return f"the bytes IPFS returned hash to {cid}, not to the proposed {p.manifest}"
    try:
        parsed = manifest.decode(data)
    except ValidationError as exc:
        return f"not a valid batch manifest: {exc}"
    if len(parsed.leaves) != p.leaf_count:
        return f"the manifest has {len(parsed.leaves)} leaves, the proposal says {p.leaf_count}"
    rebuilt = build_tree(list(parsed.leaves)).root
    if rebuilt != p.root:
        return (
            f"the manifest's leaves rebuild root 0x{rebuilt.hex()}, not the proposed "
            f"0x{p.root.hex()}"
        )
    return None
