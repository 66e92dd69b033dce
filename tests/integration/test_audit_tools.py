"""The auditor's tools over real processes: `notary stamp` manifests, `notary audit rebuild
--all/--from/--to`, `notary audit anchors --csv/--json`, and the operator's reconciliation
report (`notary audit reconcile`, GET /v1/admin/reconciliation) over a real uvicorn server.

One devnet of its own (anvil and the IPFS node) for the module: the reconciliation test
rewinds the chain (evm_snapshot / evm_revert), which must not touch the session's chain.
Faults are injected as an auditor would meet them: anchors sent with the notary key
directly (a manifest for other leaves, a manifest never put on IPFS, none at all), a block
rewound under an anchored batch, a database row edited behind the service's back.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from api.main import create_app
from notary.chain.registry import RegistryWriter, connect
from notary.core import manifest
from notary.ipfs.client import KuboRpc
from notary.ops import devnet
from notary.ops.deploy import deploy
from notary.ops.devnet import rpc_call
from notary.ops.keys import load_key
from tests.api.conftest import serve_in_thread, start_server
from tests.conftest import Chain, make_settings, run_cli

pytestmark = pytest.mark.devnet


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("audit-tools"))
    devnet.up(settings)
    try:
        yield Chain(settings, deploy(settings).deployment)
    finally:
        devnet.down(settings)


def _writer(net: Chain) -> RegistryWriter:
    return RegistryWriter(
        connect(net.rpc_url),
        net.deployment.registry,
        load_key(net.settings.notary_key_path, net.settings),
        net.rpc_url,
    )


def _ipfs(net: Chain) -> KuboRpc:
    return KuboRpc(devnet.status(net.settings).ipfs_api)


def _cli(net: Chain, *args: str):
    return run_cli(net.settings, *args)


def _json(result) -> dict:
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def test_stamp_manifest_and_rebuild_ranges(net, tmp_path) -> None:
    # 1. `notary stamp` pins the batch manifest and anchors its CID
    files = [tmp_path / "连衣裙.png", tmp_path / "coat.svg"]
    for i, f in enumerate(files):
        f.write_bytes(os.urandom(500 + i))
    stamped = _cli(net, "stamp", *map(str, files), "--json")
    assert stamped.returncode == 0, stamped.stderr
    stamp = _json(stamped)
    cert = json.loads(Path(stamp["certificates"][0]).read_text("utf-8"))
    assert cert["anchor"]["manifest"] == stamp["manifest"] != ""
    assert stamp["manifest"] in _ipfs(net).pins()
    data = b"".join(_ipfs(net).cat(stamp["manifest"]))
    assert manifest.decode(data).root.hex() == stamp["root"][2:]

    # 2. three anchors made with the notary key directly, each a failure class
    writer = _writer(net)
    other, _ = manifest.encode([os.urandom(32) for _ in range(2)])
    lie_cid = _ipfs(net).add(io.BytesIO(other), "other.json")
    lie = writer.anchor(os.urandom(32), 2, lie_cid).anchor  # manifest of other leaves
    never, _ = manifest.encode([os.urandom(32)])
    gone = writer.anchor(os.urandom(32), 1, manifest.cid_of(never)).anchor  # not on IPFS
    bare = writer.anchor(os.urandom(32), 1, "").anchor  # names no manifest
    assert [lie.sequence, gone.sequence, bare.sequence] == [
        stamp["sequence"] + 1,
        stamp["sequence"] + 2,
        stamp["sequence"] + 3,
    ]

    first, last = stamp["sequence"], bare.sequence
    ranged = _cli(net, "audit", "rebuild", "--from", str(first), "--to", str(last), "--json")
    assert ranged.returncode == 1, ranged.stderr  # a mismatch is a finding
    report = _json(ranged)
    assert report["summary"] == {"match": 1, "mismatch": 1, "unavailable": 1, "no_manifest": 1}
    outcomes = {a["sequence"]: a["outcome"] for a in report["anchors"]}
    assert outcomes == {
        first: "match",
        lie.sequence: "mismatch",
        gone.sequence: "unavailable",
        bare.sequence: "no_manifest",
    }
    assert "rebuilding" in ranged.stderr  # the progress bar goes to stderr

    # only undecidable anchors: exit 2; only matching ones: exit 0 (text summary)
    undecided = _cli(net, "audit", "rebuild", "--from", str(gone.sequence), "--to", str(last))
    assert undecided.returncode == 2, undecided.stdout + undecided.stderr
    assert "1 manifest unavailable, 1 no manifest" in undecided.stdout
    fine = _cli(net, "audit", "rebuild", "--from", str(first), "--to", str(first))
    assert fine.returncode == 0 and "1 matched, 0 mismatched" in fine.stdout

    everything = _cli(net, "audit", "rebuild", "--all", "--json")
    assert everything.returncode == 1
    whole = _json(everything)
    count = writer.anchor_count()
    assert sum(whole["summary"].values()) == count == whole["last"]
    assert [a["sequence"] for a in whole["anchors"]] == list(range(1, count + 1))

    for bad in (["--all", stamp["root"]], []):
        refused = _cli(net, "audit", "rebuild", *bad)
        assert refused.returncode == 2 and "ROOT" in refused.stderr, bad
    beyond = _cli(net, "audit", "rebuild", "--from", str(count + 1))
    assert beyond.returncode == 2 and "no anchors" in beyond.stderr


def test_anchors_export_csv_and_json(net) -> None:
    writer = _writer(net)
    made = [writer.anchor(os.urandom(32), 1, f"x-{i}") for i in range(2)]
    made.append(writer.anchor(os.urandom(32), 1, "=HYPERLINK(1)"))  # a hostile manifest
    first = made[0].anchor.sequence
    last = made[-1].anchor.sequence
    as_json = _cli(net, "audit", "anchors", "--from", str(first), "--to", str(last), "--json")
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)
    assert [r["sequence"] for r in rows] == list(range(first, last + 1))
    for row, receipt in zip(rows, made, strict=True):
        assert row["tx_hash"] == "0x" + receipt.tx_hash.hex()
        assert row["root"] == "0x" + receipt.anchor.root.hex()
        block_time = int(
            rpc_call(net.rpc_url, "eth_getBlockByNumber", [hex(row["block_number"]), False])[
                "timestamp"
            ],
            16,
        )
        assert row["block_time"] == block_time
        assert row["block_time_utc"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(block_time))
    as_csv = _cli(net, "audit", "anchors", "--from", str(first), "--to", str(last), "--csv")
    assert as_csv.returncode == 0, as_csv.stderr
    parsed = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["tx_hash"] for r in parsed] == [r["tx_hash"] for r in rows]
    assert [int(r["block_time"]) for r in parsed] == [r["block_time"] for r in rows]
    assert parsed[-1]["manifest"] == "'=HYPERLINK(1)"  # shown as text by a spreadsheet
    assert rows[-1]["manifest"] == "=HYPERLINK(1)"
    # by block time: the second of the last anchor up to the end
    since = rows[-1]["block_time_utc"]
    timed = _cli(net, "audit", "anchors", "--since", since, "--json")
    assert {r["sequence"] for r in json.loads(timed.stdout)} >= {last}
    assert all(r["block_time"] >= rows[-1]["block_time"] for r in json.loads(timed.stdout))
    no_zone = _cli(net, "audit", "anchors", "--since", "2026-01-01T00:00:00")
    assert no_zone.returncode == 2 and "zone" in no_zone.stderr


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _deposit(server, label: str) -> dict:
    """Deposit a hash and wait until it is anchored (the anchoring process may take long to
    start on a loaded machine: poll with a generous deadline)."""
    deadline = time.monotonic() + 240
    with server.client() as c:
        ev = c.post("/v1/evidence/hash?wait=60", json={"sha256": _h(label)}).json()
        while ev["status"] != "anchored":
            assert time.monotonic() < deadline, ev
            time.sleep(0.5)
            ev = c.get(f"/v1/evidence/{ev['id']}").json()
    return ev


def test_reconciliation_report_and_audit_api(net, tmp_path) -> None:
    data_dir = tmp_path / "service"
    running, server, thread = start_server(net, data_dir, batcher=True)
    try:
        kept = _deposit(running, "kept")
        edited = _deposit(running, "edited")
        snapshot = rpc_call(net.rpc_url, "evm_snapshot")
        lost = _deposit(running, "lost")
    finally:
        server.should_exit = True  # the anchoring process goes with it: nothing re-anchors
        thread.join(timeout=60)
    rpc_call(net.rpc_url, "evm_revert", [snapshot])  # the last batch's block is gone
    extra = _writer(net).anchor(os.urandom(32), 1, "").anchor  # anchored behind the service
    with sqlite3.connect(data_dir / "notary.sqlite3") as db:  # a row edited behind its back
        db.execute(
            "UPDATE batches SET manifest = 'bafkedited' WHERE root = ?",
            (bytes.fromhex(edited["anchor"]["root"][2:]),),
        )

    app = create_app(running.service.settings, start_batcher=False)
    url, server, thread = serve_in_thread(app)
    keys = running.keys
    try:
        admin = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {keys['operator']}"})
        auditor = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {keys['court']}"})
        with admin, auditor:
            answer = admin.get("/v1/admin/reconciliation")
            assert answer.status_code == 200, answer.text
            report = answer.json()
            assert auditor.get("/v1/admin/reconciliation").status_code == 403
            assert httpx.get(url + "/v1/admin/reconciliation").status_code == 401

            assert report["consistent"] is False
            assert [m["root"] for m in report["missing"]] == [lost["anchor"]["root"]]
            assert report["missing"][0]["database"]["tx_hash"] == lost["anchor"]["tx_hash"]
            (mismatch,) = report["mismatched"]
            assert mismatch["root"] == edited["anchor"]["root"]
            assert mismatch["fields"] == ["manifest"]
            assert mismatch["database"]["manifest"] == "bafkedited"
            # extra: every root the registry holds that is in no batch, read independently
            writer = _writer(net)
            ours = {kept["anchor"]["root"], edited["anchor"]["root"], lost["anchor"]["root"]}
            on_chain = {"0x" + writer.root_at(s).hex() for s in range(1, writer.anchor_count() + 1)}
            assert {e["root"] for e in report["extra"]} == on_chain - ours
            assert "0x" + extra.root.hex() in {e["root"] for e in report["extra"]}
            counts = report["counts"]
            assert counts["database_anchors"] == 3 and counts["matched"] == 1
            assert (counts["missing"], counts["mismatched"]) == (1, 1)
            assert counts["chain_anchors"] == writer.anchor_count()

            # the audit API: tx hash and UTC time, as JSON and as CSV
            sequence = extra.sequence
            listed = auditor.get("/v1/audit/anchors", params={"first": 1, "count": sequence})
            assert listed.status_code == 200
            by_root = {a["root"]: a for a in listed.json()}
            kept_anchor = by_root[kept["anchor"]["root"]]
            assert kept_anchor["tx_hash"] == kept["anchor"]["tx_hash"]
            assert kept_anchor["block_time_utc"] == kept["anchor"]["block_time_utc"]
            assert kept_anchor["block_time"] == kept["anchor"]["block_time"]
            one = auditor.get(f"/v1/audit/anchors/{kept['anchor']['root']}").json()
            assert one == kept_anchor
            params = {"first": 1, "count": sequence}
            for response in (
                auditor.get("/v1/audit/anchors", params={**params, "format": "csv"}),
                auditor.get("/v1/audit/anchors", params=params, headers={"Accept": "text/csv"}),
            ):
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/csv")
                rows = list(csv.DictReader(io.StringIO(response.text)))
                assert [r["tx_hash"] for r in rows] == [a["tx_hash"] for a in listed.json()]
                assert [r["block_time_utc"] for r in rows] == [
                    a["block_time_utc"] for a in listed.json()
                ]
            refused = auditor.get("/v1/audit/anchors", params={"format": "xml"})
            assert refused.status_code == 422
            assert refused.json()["error"]["code"] == "invalid_request"
    finally:
        server.should_exit = True
        thread.join(timeout=60)

    # the same report from the command line, reading the same database
    env_settings = net.settings.model_copy(update={"data_dir": data_dir})
    cli = run_cli(
        env_settings,
        "audit",
        "reconcile",
        "--rpc",
        net.rpc_url,
        "--registry",
        net.deployment.registry,
        "--json",
    )
    assert cli.returncode == 1, cli.stderr
    assert _json(cli)["counts"] == {**counts, "extra": len(report["extra"])}
    text = run_cli(
        env_settings,
        "audit",
        "reconcile",
        "--rpc",
        net.rpc_url,
        "--registry",
        net.deployment.registry,
    )
    assert text.returncode == 1 and "1 missing" in text.stdout and "1 mismatched" in text.stdout
    nowhere = run_cli(
        net.settings.model_copy(update={"data_dir": tmp_path / "none"}),
        "audit",
        "reconcile",
        "--rpc",
        net.rpc_url,
    )
    assert nowhere.returncode == 2 and "no database" in nowhere.stderr
    assert not (tmp_path / "none" / "notary.sqlite3").exists()
