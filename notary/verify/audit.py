"""Auditing from public data alone: anchors by sequence and time, the log head, manifests.

Like the verifier, this needs no database: only the registry's views (and its Anchored
events, for the transaction of each anchor) and, to rebuild a batch tree from its
manifest, an IPFS node. Anchors are in block order, so their times never decrease with the
sequence number, which lets a time range be found by binary search over `rootAt` and
`anchorOf`. The log head's rule is notary.core.loghead.

Rebuilding a range of anchors sorts each into one of four outcomes (REBUILD_OUTCOMES):
`match` (the manifest rebuilds the anchored root), `mismatch` (it does not: the notary
published a manifest that contradicts its anchor), `unavailable` (the manifest could not be
fetched intact: not on the IPFS node, the node unreachable or serving other bytes) and
`no_manifest` (the anchor names none). Only `mismatch` is a finding against the anchor; the
last two mean the audit could not decide.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

from notary.chain.events import transactions_of
from notary.chain.registry import OnChainAnchor, RegistryReader
from notary.core import manifest
from notary.core.loghead import log_head
from notary.core.merkle import build_tree
from notary.errors import IpfsError, NotFoundError, ValidationError
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


def utc(timestamp: int) -> str:
    """A block time (Unix seconds) as ISO 8601 in UTC with `Z`: 2026-11-21T14:33:25Z."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class AuditedAnchor:
    """An anchor as the registry records it, with the transaction that made it (None when
    its Anchored event was not found, e.g. a node that prunes old logs)."""

    anchor: OnChainAnchor
    tx_hash: bytes | None

    @property
    def block_time_utc(self) -> str:
        return utc(self.anchor.timestamp)


def with_transactions(
    registry: RegistryReader, anchors: list[OnChainAnchor]
) -> list[AuditedAnchor]:
    """`anchors` with the hash of the transaction that anchored each (one log query over
    the blocks they span)."""
    found = transactions_of(registry, anchors)
    return [AuditedAnchor(a, found.get(a.root)) for a in anchors]


Outcome = Literal["match", "mismatch", "unavailable", "no_manifest"]
REBUILD_OUTCOMES: Final[tuple[Outcome, ...]] = ("match", "mismatch", "unavailable", "no_manifest")


@dataclass(frozen=True)
class Rebuild:
    """The result of rebuilding a batch tree from its public manifest."""

    ok: bool
    reason: str
    root: bytes
    sequence: int
    manifest_cid: str
    leaf_count: int
    outcome: Outcome


def rebuild(registry: RegistryReader, ipfs: IpfsStore, root: bytes) -> Rebuild:
    """Fetch the manifest the chain names for `root`, rebuild the tree, compare.

    Uses the chain and IPFS only. NotFoundError when the root is not anchored;
    ValidationError when the anchor names no manifest; IpfsError (or NotFoundError) when
    the IPFS node cannot give the manifest.
    """
    record = registry.anchor_of(root)
    if record.sequence == 0:
        raise NotFoundError(f"root 0x{root.hex()} is not anchored in {registry.address}")
    if not record.manifest:
        raise ValidationError(f"anchor #{record.sequence} names no manifest")
    return _rebuild(record, ipfs)


def rebuild_anchor(ipfs: IpfsStore, record: OnChainAnchor) -> Rebuild:
    """Rebuild one anchor's tree; every failure to fetch is an outcome, not an error."""
    if not record.manifest:
        return Rebuild(
            False,
            "the anchor names no manifest",
            record.root,
            record.sequence,
            "",
            record.leaf_count,
            "no_manifest",
        )
    try:
        return _rebuild(record, ipfs)
    except (IpfsError, NotFoundError) as exc:
        return Rebuild(
            False,
            f"the manifest could not be fetched: {exc}",
            record.root,
            record.sequence,
            record.manifest,
            record.leaf_count,
            "unavailable",
        )


def rebuild_range(
    registry: RegistryReader, ipfs: IpfsStore, first: int, last: int
) -> Iterator[Rebuild]:
    """Rebuild anchors first..last (1-based, inclusive, clipped to the anchor count), one
    after the other, so a caller can show progress."""
    last = min(last, registry.anchor_count())
    for sequence in range(max(first, 1), last + 1):
        yield rebuild_anchor(ipfs, registry.anchor_of(registry.root_at(sequence)))


def _rebuild(record: OnChainAnchor, ipfs: IpfsStore) -> Rebuild:
    root = record.root

    def result(ok: bool, reason: str, outcome: Outcome | None = None) -> Rebuild:
        verdict: Outcome = outcome or ("match" if ok else "mismatch")
        return Rebuild(
            ok, reason, root, record.sequence, record.manifest, record.leaf_count, verdict
        )

    data = bytearray()
    for chunk in ipfs.cat(record.manifest):
        data += chunk
        if len(data) > manifest.MAX_MANIFEST_BYTES:
            return result(False, "the manifest is larger than any batch could need")
    if manifest.cid_of(bytes(data)) != record.manifest:
        return result(
            False,
            "the IPFS node returned bytes that do not hash to the manifest CID",
            "unavailable",
        )
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
