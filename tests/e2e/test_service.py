"""End to end through a real `notary serve` process, and kill -9 at every step of batching."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from notary.chain.registry import connect_reader
from notary.verify.certificate import Outcome, verify
from tests.e2e.conftest import NOTARY, ServiceProcess

pytestmark = pytest.mark.devnet


def bootstrap(service: ServiceProcess) -> str:
    return service.depositor_key("studio", "杭州童装工作室")


def test_end_to_end_files_and_hashes_verified_by_a_separate_process(chain, tmp_path) -> None:
    service = ServiceProcess(chain, tmp_path / "data")
    key = bootstrap(service)
    service.start()
    try:
        client = httpx.Client(
            base_url=service.url, timeout=60, headers={"Authorization": f"Bearer {key}"}
        )
        files = {}
        for i in range(3):
            path = tmp_path / f"设计稿-{i}.png"
            path.write_bytes(f"design {i}".encode() * 1000)
            files[path] = client.post(
                "/v1/evidence", files={"file": (path.name, path.read_bytes(), "image/png")}
            ).json()
        hashed = client.post(
            "/v1/evidence/hashes?wait=30",
            json={
                "items": [
                    {"sha256": hashlib.sha256(f"h{i}".encode()).hexdigest()} for i in range(20)
                ]
            },
        )
        assert hashed.status_code == 201 and hashed.json()["created"] == 20
        for path, ev in files.items():
            deadline = time.monotonic() + 30
            while client.get(f"/v1/evidence/{ev['id']}").json()["status"] != "anchored":
                assert time.monotonic() < deadline
                time.sleep(0.1)
            cert = tmp_path / (path.name + ".cert.json")
            cert.write_bytes(client.get(ev["certificate_url"]).content)
            result = subprocess.run(
                [
                    NOTARY,
                    "verify",
                    "-c",
                    str(cert),
                    "-f",
                    str(path),
                    "--rpc",
                    chain.rpc_url,
                    "--json",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            assert result.returncode == 0, result.stdout + result.stderr
            assert json.loads(result.stdout)["facts"]["depositor"] == "org:studio"
        client.close()
    finally:
        service.stop()


def stream_deposits(
    url: str, key: str, acknowledged: list[str], stop: threading.Event, prefix: str
) -> None:
    """Deposit one hash at a time until the service stops answering; keep what it acked."""
    with httpx.Client(base_url=url, timeout=10, headers={"Authorization": f"Bearer {key}"}) as c:
        i = 0
        while not stop.is_set():
            sha = hashlib.sha256(f"{prefix}-{i}".encode()).hexdigest()
            try:
                r = c.post("/v1/evidence/hash", json={"sha256": sha})
            except httpx.TransportError:
                return
            if r.status_code in (200, 201):
                acknowledged.append(r.json()["id"])
            i += 1


@pytest.mark.parametrize(
    "crash", ["after_batch_formed", "after_tx_signed", "after_tx_sent", "external_kill"]
)
def test_kill_9_loses_no_acknowledged_deposit(chain, tmp_path, crash) -> None:
    service = ServiceProcess(chain, tmp_path / "data")
    key = bootstrap(service)
    service.start(**({} if crash == "external_kill" else {"NOTARY_CRASH_AT": crash}))
    acknowledged: list[str] = []
    stop = threading.Event()
    streamer = threading.Thread(
        target=stream_deposits, args=(service.url, key, acknowledged, stop, crash)
    )
    streamer.start()
    assert service.process is not None
    if crash == "external_kill":
        deadline = time.monotonic() + 30
        while len(acknowledged) < 120:  # several batches in, deposits still streaming
            assert time.monotonic() < deadline
            time.sleep(0.01)
        service.kill9()
    else:
        service.process.wait(timeout=60)  # the crash point fires on the first batch
    stop.set()
    streamer.join(timeout=30)
    assert service.process.returncode == -9
    assert acknowledged, "nothing was acknowledged before the crash"

    service.start()  # restart: recovery, then business as usual
    try:
        with httpx.Client(
            base_url=service.url, timeout=30, headers={"Authorization": f"Bearer {key}"}
        ) as c:
            deadline = time.monotonic() + 90
            pending = set(acknowledged)
            while pending:
                assert time.monotonic() < deadline, f"{len(pending)} never anchored"
                pending = {
                    i for i in pending if c.get(f"/v1/evidence/{i}").json()["status"] != "anchored"
                }
                time.sleep(0.2)
            roots: dict[str, int] = {}
            for public_id in acknowledged:
                cert = c.get(f"/v1/evidence/{public_id}/certificate").content
                verdict = verify(cert, chain.rpc_url)
                assert verdict.outcome is Outcome.VALID, (public_id, verdict.reason)
                root = json.loads(cert)["anchor"]["root"]
                roots[root] = roots.get(root, 0) + 1
    finally:
        service.stop()
    registry = connect_reader(chain.rpc_url, chain.deployment.registry)
    for root in roots:
        events = registry.contract.events.Anchored().get_logs(
            argument_filters={"root": bytes.fromhex(root[2:])}, from_block=0
        )
        assert len(events) == 1, f"root {root} anchored {len(events)} times"
    assert sum(roots.values()) == len(set(acknowledged)) == len(acknowledged)


def anchoring_pid(service: ServiceProcess) -> int | None:
    detail = httpx.get(service.url + "/v1/ready", timeout=10).json()["detail"]
    found = re.fullmatch(r"running \(pid (\d+)\)", detail.get("anchoring", ""))
    return int(found.group(1)) if found else None


def wait_for(condition, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return value


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "Z"


def test_the_anchoring_process_is_restarted_and_dies_with_the_service(chain, tmp_path) -> None:
    service = ServiceProcess(chain, tmp_path / "data")
    key = bootstrap(service)
    service.start()
    headers = {"Authorization": f"Bearer {key}"}
    try:
        first = wait_for(lambda: anchoring_pid(service))
        os.kill(first, signal.SIGKILL)  # anchoring dies alone: the service starts another
        second = wait_for(lambda: (p := anchoring_pid(service)) and p != first and p)
        with httpx.Client(base_url=service.url, headers=headers, timeout=60) as c:
            ev = c.post("/v1/evidence/hash?wait=30", json={"sha256": "ab" * 32}).json()
        assert ev["status"] == "anchored"
        service.kill9()  # the service dies: its anchoring process follows it
        wait_for(lambda: not alive(second), timeout=10)
    finally:
        service.stop()


def test_one_anchoring_process_per_data_directory(chain, tmp_path) -> None:
    """While something else holds <data>/anchoring.lock (another service's anchoring
    process), deposits are accepted but not anchored; once it is released, they are."""
    data = tmp_path / "data"
    service = ServiceProcess(chain, data)
    key = bootstrap(service)
    data.mkdir(parents=True, exist_ok=True)
    with (data / "anchoring.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        service.start()
        try:
            with httpx.Client(
                base_url=service.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
            ) as c:
                ev = c.post("/v1/evidence/hash", json={"sha256": "cd" * 32}).json()
                time.sleep(3)  # ten batch intervals
                assert c.get(f"/v1/evidence/{ev['id']}").json()["status"] == "pending"
                fcntl.flock(lock, fcntl.LOCK_UN)
                done = wait_for(
                    lambda: (
                        (v := c.get(f"/v1/evidence/{ev['id']}").json())["status"] == "anchored"
                        and v
                    )
                )
                assert done["anchor"]["block_number"] > 0
        finally:
            service.stop()


def deposit_round_robin(services: list[ServiceProcess], key: str, prefix: str, n: int) -> list[str]:
    """Deposit n hashes, one service after the other; return their evidence ids."""
    ids = []
    for i in range(n):
        sha = hashlib.sha256(f"{prefix}-{i}".encode()).hexdigest()
        r = httpx.post(
            f"{services[i % len(services)].url}/v1/evidence/hash",
            json={"sha256": sha},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def anchored_certificates(service: ServiceProcess, key: str, ids: list[str]) -> list[dict]:
    with httpx.Client(
        base_url=service.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as c:
        wait_for(
            lambda: all(c.get(f"/v1/evidence/{i}").json()["status"] == "anchored" for i in ids),
            timeout=90,
        )
        return [json.loads(c.get(f"/v1/evidence/{i}/certificate").content) for i in ids]


def test_two_services_on_one_postgresql_database_anchor_once(chain, tmp_path, postgres) -> None:
    """Two `notary serve` on one PostgreSQL database: one anchoring process works, the other
    stands by (advisory lock); every deposit is anchored exactly once, and when the service
    that anchors is killed the other one takes over."""
    from tests.postgres import fresh_database

    url = fresh_database(postgres)
    first = ServiceProcess(chain, tmp_path / "first", NOTARY_DATABASE_URL=url)
    key = bootstrap(first)  # organizations and keys live in the shared database
    second = ServiceProcess(chain, tmp_path / "second", NOTARY_DATABASE_URL=url)
    first.start()
    alone = anchored_certificates(first, key, deposit_round_robin([first], key, "alone", 5))
    second.start()  # the first's anchoring process is active: the second's stands by
    both = anchored_certificates(first, key, deposit_round_robin([first, second], key, "two", 40))
    first.kill9()  # the active one goes: the standby takes over
    after = anchored_certificates(second, key, deposit_round_robin([second], key, "after", 20))
    both += alone
    registry = connect_reader(chain.rpc_url, chain.deployment.registry)
    for root in {c["anchor"]["root"] for c in both + after}:
        events = registry.contract.events.Anchored().get_logs(
            argument_filters={"root": bytes.fromhex(root[2:])}, from_block=0
        )
        assert len(events) == 1, f"root {root} anchored {len(events)} times"
    for cert in both + after:
        assert verify(json.dumps(cert).encode(), chain.rpc_url).outcome is Outcome.VALID
