"""Anchors as an auditor exports them: one record per anchor, as JSON objects or CSV rows.

The audit API (`GET /v1/audit/anchors`, JSON or `format=csv`) and `notary audit anchors
--json/--csv` write the same columns, in the order of COLUMNS, so a spreadsheet made from
one matches the other. Hashes are 0x-prefixed lower-case hex; `block_time` is Unix seconds
and `block_time_utc` the same instant in ISO 8601 UTC with `Z`; `tx_hash` is empty in CSV
(null in JSON) when the node had no Anchored event for the anchor.

The manifest reference is the one free-text column (whatever a notary key wrote): in CSV a
value starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`, so a
spreadsheet shows it as text instead of running it as a formula (OWASP's CSV injection
advice). JSON carries it unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Final

from notary.verify.audit import AuditedAnchor

COLUMNS: Final = (
    "sequence",
    "root",
    "notary",
    "leaf_count",
    "block_number",
    "block_time",
    "block_time_utc",
    "tx_hash",
    "log_head",
    "manifest",
)
CSV_MEDIA_TYPE: Final = "text/csv; charset=utf-8"
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def record(entry: AuditedAnchor) -> dict[str, str | int | None]:
    """One anchor as a flat record with the COLUMNS."""
    a = entry.anchor
    return {
        "sequence": a.sequence,
        "root": "0x" + a.root.hex(),
        "notary": a.notary,
        "leaf_count": a.leaf_count,
        "block_number": a.block_number,
        "block_time": a.timestamp,
        "block_time_utc": entry.block_time_utc,
        "tx_hash": "0x" + entry.tx_hash.hex() if entry.tx_hash is not None else None,
        "log_head": "0x" + a.log_head.hex(),
        "manifest": a.manifest,
    }


def to_csv(entries: Iterable[AuditedAnchor]) -> str:
    """RFC 4180 CSV (CRLF line ends) with a header row of COLUMNS."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for entry in entries:
        row = {k: "" if v is None else v for k, v in record(entry).items()}
        if str(row["manifest"]).startswith(_FORMULA_STARTS):
            row["manifest"] = "'" + str(row["manifest"])
        writer.writerow(row)
    return buffer.getvalue()
