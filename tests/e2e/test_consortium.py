"""The consortium pipeline through real processes: `notary devnet up` in consortium mode
(anvil, the IPFS node, a ConsortiumRegistry 2-of-3, three `notary endorser run`
processes with fresh keys), a real `notary serve`, and deposits over HTTP throughout.

One endorser is killed (-9) while batches are in flight: the other two keep endorsing and
batches keep being anchored. A second one is killed: batches wait in awaiting_endorsement,
visibly (evidence status, GET /v1/ready), while deposits are still acknowledged. The two
are started again (`notary devnet up` restarts the endorsers that are not running): every
acknowledged deposit is anchored exactly once, each anchor carries >= 2 endorsements on
chain, and its version 2 certificate verifies against the chain.

The timeline is bounded by DEPOSIT_SECONDS (a knob: NOTARY_TEST_CONSORTIUM_SECONDS).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from notary.chain.consortium import connect_consortium_reader
from notary.core import certificate_v2
from notary.files import read_json
from notary.ops import devnet
from notary.ops.deployment import DEVNET_RECORD, load_deployment
from notary.verify.certificate import Outcome, verify
from tests.conftest import free_port, make_settings
from tests.e2e.conftest import Depositor

NOTARY = str(Path(sys.executable).parent / "notary")
DEPOSIT_SECONDS = float(os.environ.get("NOTARY_TEST_CONSORTIUM_SECONDS", "3"))


def _wait(condition: Callable[[], object], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("consortium")
    port = free_port()
    settings = make_settings(data, consortium_endorsers=3, consortium_threshold=2, api_port=port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARY_")}
    env.update(
        NOTARY_DATA_DIR=str(data),
        NOTARY_DEVNET_PORT=str(settings.devnet_port),
        NOTARY_IPFS_PORT=str(settings.ipfs_port),
        NOTARY_CONSORTIUM_ENDORSERS="3",
        NOTARY_CONSORTIUM_THRESHOLD="2",
        NOTARY_API_PORT=str(port),
        NOTARY_BATCH_INTERVAL_SECONDS="0.5",
        NOTARY_BATCH_MAX_LEAVES="40",
    )
    serve: subprocess.Popen[bytes] | None = None
    try:
        devnet.up(settings)
        subprocess.run(
            [NOTARY, "admin", "create-org", "studio", "--name", "Studio"],
            env=env,
            check=True,
            capture_output=True,
        )
        key = subprocess.run(
            [NOTARY, "admin", "create-key", "studio"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        with (data / "serve.log").open("ab") as log:
            serve = subprocess.Popen(
                [NOTARY, "serve", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return httpx.get(url + "/v1/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        _wait(healthy, "notary serve")
        yield {"settings": settings, "env": env, "url": url, "key": key, "data": data}
    finally:
        if serve is not None and serve.poll() is None:
            serve.terminate()
            serve.wait(timeout=30)
        devnet.down(settings)


def _endorser_pids(data: Path) -> dict[str, int]:
    record = read_json(data / DEVNET_RECORD) or {}
    return dict(record.get("endorser_pids") or {})


def _statuses(client: httpx.Client, ids: set[str]) -> dict[str, str]:
    """Status of each of `ids`, paging through the organization's evidence list."""
    found: dict[str, str] = {}
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        answer = client.get("/v1/evidence", params=params)
        answer.raise_for_status()
        page = answer.json()
        found.update({e["id"]: e["status"] for e in page["items"] if e["id"] in ids})
        cursor = page.get("next_cursor")
        if not cursor:
            return found


def test_endorsers_down_and_back_nothing_lost_each_anchor_endorsed(consortium) -> None:
    url, key = consortium["url"], consortium["key"]
    with httpx.Client(
        base_url=url, timeout=30, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        _pipeline(consortium, client)


def _pipeline(consortium: dict[str, Any], client: httpx.Client) -> None:
    url, key, data = consortium["url"], consortium["key"], consortium["data"]
    depositor = Depositor(url, key, "consortium", pause=0.2, per_wake=1, timeout=30)
    depositor.start()
    pids = _endorser_pids(data)
    assert len(pids) == 3
    try:
        # all three up: deposits get anchored
        first = _wait(depositor.snapshot, "a first acknowledged deposit")
        _wait(lambda: set(_statuses(client, first).values()) == {"anchored"}, "first anchors")

        # one killed -9 mid-batch: the other two still endorse
        os.kill(pids.popitem()[1], signal.SIGKILL)
        time.sleep(DEPOSIT_SECONDS)
        with_two = depositor.snapshot()
        _wait(
            lambda: set(_statuses(client, with_two).values()) == {"anchored"},
            "anchors with two endorsers",
            timeout=90,
        )

        # two down: fewer than k, batches wait, visibly; deposits are still acknowledged
        os.kill(pids.popitem()[1], signal.SIGKILL)
        before = depositor.snapshot()
        _wait(lambda: len(depositor.snapshot()) > len(before) + 10, "deposits while waiting")
        # deposited after the second kill: in batches formed after it, which only one
        # endorser can endorse
        waiting = depositor.snapshot() - before

        def some_waiting() -> bool:
            return "awaiting_endorsement" in _statuses(client, waiting).values()

        _wait(some_waiting, "a batch awaiting endorsement")
        for status in ("awaiting_endorsement", "batched"):  # the listing filters as it shows
            page = client.get("/v1/evidence", params={"status": status, "limit": 500})
            assert page.status_code == 200, page.text
            shown = {e["status"] for e in page.json()["items"]}
            assert shown <= {status}, (status, shown)
            if status == "awaiting_endorsement":
                assert shown == {status}
        status = subprocess.run(
            [NOTARY, "devnet", "status", "--json"],
            env=consortium["env"],
            capture_output=True,
            text=True,
            check=True,
        )
        endorsers = json.loads(status.stdout)["endorsers"]
        assert sorted(e["running"] for e in endorsers) == [False, False, True]
        assert {e["organization"] for e in endorsers} >= {"杭州互联网法院 (devnet)"}
        assert all(e["last_seen"] for e in endorsers)  # each was heard from before
        ready = httpx.get(url + "/v1/ready", timeout=10).json()
        assert ready["ready"] is True  # waiting for endorsers is not "not ready"
        assert int(ready["detail"]["awaiting_endorsement"]) >= 1
        assert "of 3 seen in the last 60 s" in ready["detail"]["endorsers"]
        metrics = httpx.get(url + "/metrics", timeout=10).text
        gauge = re.search(
            r'notary_batches_under_way\{status="awaiting_endorsement"\} (\S+)', metrics
        )
        assert gauge is not None and float(gauge.group(1)) >= 1
        time.sleep(DEPOSIT_SECONDS)
        assert "anchored" not in set(_statuses(client, waiting).values())
        assert "confirming" not in set(_statuses(client, waiting).values())
    finally:
        depositor.halt.set()
        depositor.join(timeout=30)
        depositor.client.close()
    acknowledged = depositor.snapshot()

    # the endorsers come back: everything acknowledged gets anchored, exactly once
    devnet.start_endorsers(consortium["settings"])
    assert len([p for p in _endorser_pids(data).values() if p]) == 3
    _wait(
        lambda: set(_statuses(client, acknowledged).values()) == {"anchored"},
        "every acknowledged deposit anchored",
        timeout=120,
    )

    # each endorser's key: fresh, owner-only, never in its log
    for i in (1, 2, 3):
        key_file = data / "keys" / f"endorser-{i}.key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        secret = key_file.read_text().strip().removeprefix("0x")
        log = (data / "devnet" / f"endorser-{i}.log").read_text()
        assert "serving registry" in log and secret not in log

    deployment = load_deployment(consortium["settings"])
    assert deployment is not None and deployment.kind == "consortium"
    reader = connect_consortium_reader(deployment.rpc_url, deployment.registry)
    roots: dict[str, int] = {}
    for public_id in sorted(acknowledged):
        answer = client.get(f"/v1/evidence/{public_id}/certificate")
        assert answer.status_code == 200, answer.text
        cert = certificate_v2.loads(answer.content)
        roots[cert.anchor.root.hex()] = cert.anchor.leaf_count
    # exactly once: each deposit's leaf in one anchored batch, the batches partition them
    assert sum(roots.values()) == len(acknowledged)
    for root in roots:
        on_chain = reader.endorsement_of(bytes.fromhex(root))
        assert on_chain.threshold == 2 and len(on_chain.endorsers) >= 2
    sample = sorted(acknowledged)[:: max(1, len(acknowledged) // 5)]
    for public_id in sample:
        raw = client.get(f"/v1/evidence/{public_id}/certificate").content
        assert json.loads(raw)["version"] == 2
        verdict = verify(raw, deployment.rpc_url)
        assert verdict.outcome is Outcome.VALID, verdict


def _cli(consortium: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NOTARY, *args], env=consortium["env"], capture_output=True, text=True, timeout=180
    )


def test_auditor_tools_read_a_consortium_registry(consortium, tmp_path) -> None:
    """The walkthrough's audit step on the default (consortium) devnet: the audit API, `notary
    audit rebuild --all / anchors / log / members / reconcile` read the ConsortiumRegistry;
    `notary stamp`, which has no endorsement round, refuses it plainly."""
    url, key = consortium["url"], consortium["key"]
    with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"}) as c:
        ids = [
            c.post("/v1/evidence/hash", json={"sha256": secrets.token_hex(32)}).json()["id"]
            for _ in range(3)
        ]
        devnet.start_endorsers(consortium["settings"])  # whatever an earlier test stopped
        _wait(lambda: set(_statuses(c, set(ids)).values()) == {"anchored"}, "anchors", 120)
    _cli(consortium, "admin", "create-org", "court", "--name", "Court", "--role", "auditor")
    auditor = _cli(consortium, "admin", "create-key", "court").stdout.strip()
    with httpx.Client(
        base_url=url, timeout=60, headers={"Authorization": f"Bearer {auditor}"}
    ) as a:
        listed = a.get("/v1/audit/anchors", params={"first": 1, "count": 1000})
        assert listed.status_code == 200, listed.text
        anchors = listed.json()["anchors"] if isinstance(listed.json(), dict) else listed.json()
    assert anchors and all(x["tx_hash"].startswith("0x") for x in anchors)

    rebuilt = _cli(consortium, "audit", "rebuild", "--all", "--json")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    summary = json.loads(rebuilt.stdout)["summary"]
    assert summary["match"] == len(anchors) and summary["mismatch"] == 0, summary
    exported = _cli(consortium, "audit", "anchors", "--json")
    assert exported.returncode == 0 and len(json.loads(exported.stdout)) == len(anchors)
    head = _cli(consortium, "audit", "log")
    assert head.returncode == 0, head.stdout + head.stderr
    members = _cli(consortium, "audit", "members", "--json")
    assert members.returncode == 0, members.stderr
    assert "童装行业协会 (devnet)" in members.stdout
    reconciled = _cli(consortium, "audit", "reconcile", "--json")
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr

    design = tmp_path / "stamped.png"
    design.write_bytes(secrets.token_bytes(100))
    stamped = _cli(consortium, "stamp", str(design))
    assert stamped.returncode != 0 and "endorse" in (stamped.stdout + stamped.stderr)
    assert not (tmp_path / "stamped.png.cert.json").exists()
