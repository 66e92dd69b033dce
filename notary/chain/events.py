"""The registry's Anchored events over a block range: which transaction anchored each root.

The registry's views (`anchorOf`, `rootAt`) say what was anchored, when and by whom, but
not in which transaction: only the Anchored event's log carries that. The audit API, the
auditor's CSV export and the operator's reconciliation report read the events here, in
windows of LOG_WINDOW_BLOCKS (many nodes refuse a log query over the whole chain).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from notary.chain.errors import chain_errors
from notary.chain.registry import OnChainAnchor, RegistryReader

LOG_WINDOW_BLOCKS: Final = 10_000
"""Blocks per eth_getLogs request."""


@dataclass(frozen=True)
class AnchoredEvent:
    """One Anchored event: the anchor it recorded and the transaction and block holding it."""

    anchor: OnChainAnchor
    tx_hash: bytes
    block_hash: bytes


def anchored_events(
    registry: RegistryReader, from_block: int, to_block: int | None = None
) -> list[AnchoredEvent]:
    """Anchored events of `registry` in blocks from_block..to_block (the newest if None),
    in log order (which is sequence order)."""
    last = registry.latest_block_number() if to_block is None else to_block
    found: list[AnchoredEvent] = []
    start = max(0, from_block)
    while start <= last:
        end = min(last, start + LOG_WINDOW_BLOCKS - 1)
        with chain_errors(registry.rpc_url):
            logs = registry.contract.events.Anchored().get_logs(from_block=start, to_block=end)
        for log in logs:
            a = log["args"]
            anchor = OnChainAnchor(
                root=bytes(a["root"]),
                sequence=int(a["sequence"]),
                block_number=int(log["blockNumber"]),
                timestamp=int(a["timestamp"]),
                leaf_count=int(a["leafCount"]),
                notary=str(a["notary"]),
                log_head=bytes(a["logHead"]),
                manifest=str(a["manifest"]),
            )
            found.append(
                AnchoredEvent(anchor, bytes(log["transactionHash"]), bytes(log["blockHash"]))
            )
        start = end + 1
    return found


def transactions_of(registry: RegistryReader, anchors: list[OnChainAnchor]) -> dict[bytes, bytes]:
    """root -> hash of the transaction that anchored it, for `anchors` (read from the events
    in the blocks they span; a root whose event is not found is left out)."""
    if not anchors:
        return {}
    wanted = {a.root for a in anchors}
    low = min(a.block_number for a in anchors)
    high = max(a.block_number for a in anchors)
    return {
        e.anchor.root: e.tx_hash
        for e in anchored_events(registry, low, high)
        if e.anchor.root in wanted
    }
