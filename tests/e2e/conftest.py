"""A real `notary serve` process over the session devnet, started and killed by the tests."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

NOTARY = str(Path(sys.executable).parent / "notary")


STARTED: list[ServiceProcess] = []
"""Every service a test started, stopped at the end whatever happened to the test."""


@pytest.fixture(autouse=True)
def _stop_services_left_running():
    yield
    while STARTED:
        STARTED.pop().stop()


class ServiceProcess:
    def __init__(self, chain, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARY_")}
        self.env.update(
            NOTARY_DATA_DIR=str(data_dir),
            NOTARY_RPC_URL=chain.rpc_url,
            NOTARY_REGISTRY=chain.deployment.registry,
            NOTARY_NOTARY_KEY_FILE=str(chain.settings.notary_key_path),
            NOTARY_BATCH_INTERVAL_SECONDS="0.2",
            NOTARY_BATCH_MAX_LEAVES="50",
            **env,
        )
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = data_dir / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    def depositor_key(self, slug: str = "studio", name: str = "Studio") -> str:
        """Create a depositor organization with the real CLI; its API key."""
        self.cli("admin", "create-org", slug, "--name", name)
        return self.cli("admin", "create-key", slug).stdout.strip()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [NOTARY, *args], env=self.env, capture_output=True, text=True, timeout=120, check=True
        )

    def start(self, **env: str) -> ServiceProcess:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [NOTARY, "serve", "--port", str(self.port)],
                env={**self.env, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        STARTED.append(self)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(self.url + "/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("notary serve did not start: " + self.log.read_text())

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Depositor(threading.Thread):
    """Deposits `per_wake` requests of five new hashes every `pause` seconds through the
    bulk route; remembers which deposits were acknowledged (a request that fails or is
    refused promised nothing)."""

    def __init__(
        self, url: str, key: str, prefix: str, pause: float, per_wake: int, timeout: float
    ) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(
            base_url=url, timeout=timeout, headers={"Authorization": f"Bearer {key}"}
        )
        self.prefix, self.pause, self.per_wake = prefix, pause, per_wake
        self.acknowledged: set[str] = set()
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.n = 0

    def run(self) -> None:
        while not self.halt.wait(self.pause):
            for _ in range(self.per_wake):
                self._deposit()

    def _deposit(self) -> None:
        items = []
        for _ in range(5):
            self.n += 1
            items.append({"sha256": hashlib.sha256(f"{self.prefix}-{self.n}".encode()).hexdigest()})
        try:
            answer = self.client.post("/v1/evidence/hashes", json={"items": items})
        except httpx.TransportError:
            return  # not acknowledged: nothing promised
        if answer.status_code in (200, 201):
            with self.lock:
                self.acknowledged.update(e["id"] for e in answer.json()["items"])

    def snapshot(self) -> set[str]:
        with self.lock:
            return set(self.acknowledged)
