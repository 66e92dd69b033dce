"""The operator's reconciliation report: the database's anchors against the registry's.

notary.anchoring.reconcile acts (it re-anchors a batch whose block is gone); this module
only looks, and says what an operator or an auditor asks about the service: does every
anchor the database records exist on chain as recorded, and does the chain hold anchors
the database does not know? Three kinds of discrepancy:

- missing: a batch the database has as anchored (or confirming) whose root the registry
  does not hold (a lost block not yet noticed, a chain restored from an older backup, a
  database pointed at the wrong chain);
- extra: a root the registry holds that no batch of the database has (anchored by the
  notary key from elsewhere, `notary stamp` with the service's key, another database, a
  foreign notary);
- mismatched: a root both hold whose sequence, block, block hash, transaction, time, leaf
  count, notary or manifest differ.

Batches anchored in another registry (NOTARY_REGISTRY changed) and batches not yet mined
are counted, not compared. The chain side is read from the registry's Anchored events and
cross-checked against `anchorCount` and `anchorOf`, so a node that prunes logs cannot make
an anchor look missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from notary.chain.events import anchored_events
from notary.chain.registry import RegistryReader
from notary.store.db import transaction
from notary.store.models import Batch, BatchStatus

Kind = Literal["missing", "extra", "mismatched"]
COMPARED: Final = (
    "sequence",
    "block_number",
    "block_hash",
    "tx_hash",
    "block_time",
    "leaf_count",
    "notary",
    "manifest",
)
"""The fields of an anchor compared between the database and the chain."""

Side = dict[str, str | int | None]


@dataclass(frozen=True)
class Discrepancy:
    """One anchor on which the database and the chain disagree."""

    kind: Kind
    root: bytes
    batch_id: int | None
    detail: str
    fields: tuple[str, ...]
    """For `mismatched`, the COMPARED fields that differ."""
    database: Side | None
    chain: Side | None


@dataclass(frozen=True)
class ReconciliationReport:
    chain_id: int
    registry: str
    checked_at: datetime
    database_anchors: int
    """Batches the database has as confirming or anchored in this registry (compared)."""
    chain_anchors: int
    """Anchors the registry holds (anchorCount)."""
    matched: int
    in_flight: int
    """Batches built or signed, not yet mined: not compared."""
    other_registry: int
    """Batches anchored in another registry: not compared."""
    missing: list[Discrepancy] = field(default_factory=list)
    extra: list[Discrepancy] = field(default_factory=list)
    mismatched: list[Discrepancy] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not (self.missing or self.extra or self.mismatched)


def _hex(value: bytes | None) -> str | None:
    return None if value is None else "0x" + value.hex()


@dataclass(frozen=True)
class _Row:
    """What the report reads of a batch (not its signed transaction's bytes)."""

    id: int
    root: bytes
    status: str
    registry_address: str | None
    sequence: int | None
    block_number: int | None
    block_hash: bytes | None
    tx_hash: bytes | None
    block_time: int | None
    leaf_count: int
    notary: str | None
    manifest: str


def _database_side(batch: _Row) -> Side:
    return {
        "sequence": batch.sequence,
        "block_number": batch.block_number,
        "block_hash": _hex(batch.block_hash),
        "tx_hash": _hex(batch.tx_hash),
        "block_time": batch.block_time,
        "leaf_count": batch.leaf_count,
        "notary": batch.notary,
        "manifest": batch.manifest,
    }


def reconciliation_report(
    factory: sessionmaker[Session], registry: RegistryReader
) -> ReconciliationReport:
    """Compare every mined batch of the database with the registry's anchors."""
    checked_at = datetime.now(UTC)
    with transaction(factory) as session:
        batches = [
            _Row(**row._asdict())
            for row in session.execute(
                select(
                    Batch.id,
                    Batch.root,
                    Batch.status,
                    Batch.registry_address,
                    Batch.sequence,
                    Batch.block_number,
                    Batch.block_hash,
                    Batch.tx_hash,
                    Batch.block_time,
                    Batch.leaf_count,
                    Batch.notary,
                    Batch.manifest,
                ).order_by(Batch.id)
            ).all()
        ]
    mined = {BatchStatus.CONFIRMING.value, BatchStatus.ANCHORED.value}
    here = registry.address.lower()
    compared = [
        b for b in batches if b.status in mined and (b.registry_address or "").lower() == here
    ]
    other_registry = sum(
        1 for b in batches if b.status in mined and (b.registry_address or "").lower() != here
    )
    in_flight = sum(1 for b in batches if b.status not in mined)

    count = registry.anchor_count()
    events = {e.anchor.root: e for e in anchored_events(registry, 0)}
    chain: dict[bytes, Side] = {
        root: {
            "sequence": e.anchor.sequence,
            "block_number": e.anchor.block_number,
            "block_hash": _hex(e.block_hash),
            "tx_hash": _hex(e.tx_hash),
            "block_time": e.anchor.timestamp,
            "leaf_count": e.anchor.leaf_count,
            "notary": e.anchor.notary,
            "manifest": e.anchor.manifest,
        }
        for root, e in events.items()
    }
    if len(events) < count:  # a node without every log: the registry's state decides
        for sequence in range(1, count + 1):
            root = registry.root_at(sequence)
            if root not in chain:
                a = registry.anchor_of(root)
                chain[root] = {
                    "sequence": a.sequence,
                    "block_number": a.block_number,
                    "block_hash": None,
                    "tx_hash": None,
                    "block_time": a.timestamp,
                    "leaf_count": a.leaf_count,
                    "notary": a.notary,
                    "manifest": a.manifest,
                }

    missing: list[Discrepancy] = []
    mismatched: list[Discrepancy] = []
    for batch in compared:
        ours = _database_side(batch)
        theirs = chain.get(batch.root)
        if theirs is None:
            missing.append(
                Discrepancy(
                    "missing",
                    batch.root,
                    batch.id,
                    f"batch {batch.id} ({batch.status}) says anchor #{batch.sequence} in block "
                    f"{batch.block_number}; the registry does not hold its root",
                    (),
                    ours,
                    None,
                )
            )
            continue
        differ = tuple(
            name
            for name in COMPARED
            if theirs[name] is not None and _norm(ours[name]) != _norm(theirs[name])
        )
        if differ:
            mismatched.append(
                Discrepancy(
                    "mismatched",
                    batch.root,
                    batch.id,
                    f"batch {batch.id}: "
                    + ", ".join(
                        f"{n} {ours[n]} in the database, {theirs[n]} on chain" for n in differ
                    ),
                    differ,
                    ours,
                    theirs,
                )
            )
    known = {b.root for b in batches}
    extra = [
        Discrepancy(
            "extra",
            root,
            None,
            f"anchor #{side['sequence']} in block {side['block_number']} by {side['notary']} "
            "is in no batch of the database",
            (),
            None,
            side,
        )
        for root, side in sorted(chain.items(), key=lambda item: int(item[1]["sequence"] or 0))
        if root not in known
    ]
    return ReconciliationReport(
        chain_id=registry.chain_id(),
        registry=registry.address,
        checked_at=checked_at,
        database_anchors=len(compared),
        chain_anchors=count,
        matched=len(compared) - len(missing) - len(mismatched),
        in_flight=in_flight,
        other_registry=other_registry,
        missing=missing,
        extra=extra,
        mismatched=mismatched,
    )


def _norm(value: str | int | None) -> str | int | None:
    """Addresses and hex compare without regard to case."""
    return value.lower() if isinstance(value, str) and value.startswith("0x") else value


MAX_ITEMS: Final = 1000
"""Discrepancies listed per kind in the report's data (the counts are always complete)."""


def as_dict(report: ReconciliationReport, max_items: int = MAX_ITEMS) -> dict[str, object]:
    """The report as JSON-ready data (the CLI's --json and the admin endpoint's body), at
    most `max_items` discrepancies of each kind (`truncated` says when some were left out)."""

    def item(d: Discrepancy) -> dict[str, object]:
        return {
            "kind": d.kind,
            "root": "0x" + d.root.hex(),
            "batch_id": d.batch_id,
            "detail": d.detail,
            "fields": list(d.fields),
            "database": d.database,
            "chain": d.chain,
        }

    return {
        "consistent": report.consistent,
        "chain_id": report.chain_id,
        "registry": report.registry,
        "checked_at": report.checked_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "counts": {
            "database_anchors": report.database_anchors,
            "chain_anchors": report.chain_anchors,
            "matched": report.matched,
            "missing": len(report.missing),
            "extra": len(report.extra),
            "mismatched": len(report.mismatched),
            "in_flight": report.in_flight,
            "other_registry": report.other_registry,
        },
        "truncated": max(len(report.missing), len(report.extra), len(report.mismatched))
        > max_items,
        "missing": [item(d) for d in report.missing[:max_items]],
        "extra": [item(d) for d in report.extra[:max_items]],
        "mismatched": [item(d) for d in report.mismatched[:max_items]],
    }
