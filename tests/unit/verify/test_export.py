"""The auditor's CSV export: columns, empty transaction, and formulas kept as text."""

from __future__ import annotations

import csv
import io

import pytest

from notary.chain.registry import OnChainAnchor
from notary.verify.audit import AuditedAnchor
from notary.verify.export import COLUMNS, record, to_csv


def _entry(manifest: str, tx_hash: bytes | None = b"\x07" * 32) -> AuditedAnchor:
    anchor = OnChainAnchor(b"\x01" * 32, 3, 9, 1_763_735_605, 2, "0xAbC", b"\x02" * 32, manifest)
    return AuditedAnchor(anchor, tx_hash)


def test_csv_has_the_json_columns_and_values() -> None:
    entries = [_entry("bafkexample"), _entry("bafkother", None)]
    text = to_csv(entries)
    assert text.startswith(",".join(COLUMNS) + "\r\n")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0] == {k: str(v) for k, v in record(entries[0]).items()}
    assert rows[0]["block_time_utc"] == "2025-11-21T14:33:25Z"
    assert rows[0]["tx_hash"] == "0x" + "07" * 32
    assert rows[1]["tx_hash"] == ""
    assert record(entries[1])["tx_hash"] is None


@pytest.mark.parametrize("hostile", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_a_manifest_that_looks_like_a_formula_stays_text(hostile: str) -> None:
    (row,) = csv.DictReader(io.StringIO(to_csv([_entry(hostile)])))
    assert row["manifest"] == "'" + hostile
    assert record(_entry(hostile))["manifest"] == hostile
