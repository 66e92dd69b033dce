"""The README's first command, `scripts/run`, as a newcomer runs it, with the default
settings: it starts the devnet consortium (three endorsers, 2-of-3) and prints keys that
work; a file deposited then gets a version 2 certificate that `notary verify` accepts and
reads out; it starts the service again when it dies unexpectedly, and stops everything on
Ctrl-C."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from notary.config import Settings
from notary.ops import devnet
from notary.ops.toolchain import REPO_ROOT
from tests.conftest import free_port

NOTARY = str(Path(sys.executable).parent / "notary")

pytestmark = pytest.mark.devnet


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                found.append(child)
                todo.append(child)
    return found


def _serve_pid(script: int) -> int | None:
    for pid in _descendants(script):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"notary") for a in argv[:2]) and b"serve" in argv:
            return pid
    return None


def _health(url: str) -> bool:
    try:
        return httpx.get(url + "/v1/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _file_certificate_verifies(url: str, key: str, folder: Path, chain_port: int) -> None:
    """The walkthrough's deposit and verify on the default devnet: version 2, endorsed."""
    design = folder / "连衣裙.png"
    design.write_bytes(os.urandom(5000))
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
        answer = client.post(
            "/v1/evidence?wait=60", files={"file": (design.name, design.read_bytes())}, timeout=90
        )
        assert answer.status_code == 201 and answer.json()["status"] == "anchored", answer.text
        cert = client.get(answer.json()["certificate_url"], timeout=30)
    assert cert.status_code == 200 and cert.json()["version"] == 2
    (folder / (design.name + ".cert.json")).write_bytes(cert.content)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARY_")}
    verdict = subprocess.run(
        [NOTARY, "verify", str(design), "--rpc", f"http://127.0.0.1:{chain_port}", "--lang", "en"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert verdict.stdout.startswith("VALID"), verdict.stdout
    endorsed = r"Endorsed by [23] of the 3 endorsing members \(2 required\): .*\(devnet\)"
    assert re.search(endorsed, verdict.stdout), verdict.stdout


def test_scripts_run_serves_restarts_after_a_crash_and_stops_on_ctrl_c(tmp_path) -> None:
    data = tmp_path / "data"
    api_port, chain_port, ipfs_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARY_")}
    env.update(
        NOTARY_DATA_DIR=str(data),
        NOTARY_API_PORT=str(api_port),
        NOTARY_DEVNET_PORT=str(chain_port),
        NOTARY_IPFS_PORT=str(ipfs_port),
        NOTARY_BATCH_INTERVAL_SECONDS="0.2",
    )
    log = tmp_path / "run.log"
    url = f"http://127.0.0.1:{api_port}"
    with log.open("wb") as out:
        script = subprocess.Popen(
            [str(REPO_ROOT / "scripts" / "run")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, as a terminal's job is
        )
    try:
        deadline = time.monotonic() + 180
        while not _health(url):
            assert script.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        keys = dict(re.findall(r"depositor (\S+): (nk_\S+)", log.read_text()))
        key = keys["demo-studio"]
        assert "Consortium: 2-of-3 endorsements" in log.read_text(), log.read_text()
        _file_certificate_verifies(url, key, tmp_path, chain_port)
        first = _serve_pid(script.pid)
        assert first is not None

        os.kill(first, signal.SIGKILL)  # the service crashes
        deadline = time.monotonic() + 60
        while (again := _serve_pid(script.pid)) in (None, first) or not _health(url):
            assert script.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert "ended unexpectedly" in log.read_text()
        assert again != first

        answer = httpx.post(
            url + "/v1/evidence/hash?wait=30",
            headers={"Authorization": f"Bearer {key}"},
            json={"sha256": hashlib.sha256(b"after the crash").hexdigest()},
            timeout=60,
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["status"] == "anchored"

        os.killpg(script.pid, signal.SIGINT)  # Ctrl-C in the terminal
        assert script.wait(timeout=60) == 0, log.read_text()
        assert not _health(url)
        settings = Settings(data_dir=data, devnet_port=chain_port, ipfs_port=ipfs_port)
        assert not devnet.status(settings).running  # the devnet was stopped too
    finally:
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGKILL)
            script.wait()
        devnet.down(Settings(data_dir=data, devnet_port=chain_port, ipfs_port=ipfs_port))
