"""A real uvicorn server (real sockets, real HTTP) over the session devnet."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from api.main import create_app
from notary.ops import devnet
from notary.service import NotaryService
from notary.store.db import database_url, make_engine, make_sessionmaker
from notary.store.models import Role
from notary.store.orgs import create_key, create_organization
from tests.conftest import free_port

UPLOAD_LIMIT = 2 * 1024 * 1024  # above one 1 MiB chunk, so multi-block files fit
ROLES = (
    ("studio", Role.DEPOSITOR),
    ("copycat", Role.DEPOSITOR),
    ("court", Role.AUDITOR),
    ("operator", Role.ADMIN),
)


@dataclass
class Server:
    url: str
    keys: dict[str, str]
    service: NotaryService

    def client(self, who: str | None = "studio") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def wait_for(found: Callable[[], Any], what: str, seconds: float = 60) -> Any:
    """`found()`'s first truthy answer, asked every 0.1 s; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while not (result := found()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return result


def create_organizations(data_dir: Path, database: str | None) -> dict[str, str]:
    """One organization for each of ROLES in the store of `data_dir`; their API keys."""
    engine = make_engine(database_url(data_dir, database))
    factory = make_sessionmaker(engine)
    keys = {}
    for slug, role in ROLES:
        create_organization(factory, slug + "-org", f"{slug} 组织", role)
        keys[slug] = create_key(factory, slug + "-org").secret
    engine.dispose()
    return keys


def start_server(
    chain,
    data_dir,
    *,
    batcher: bool,
    rpc_url: str | None = None,
    ipfs_api: str | None = None,
    database: str | None = None,
    **overrides: object,
) -> tuple:
    settings = chain.settings.model_copy(
        update={
            "data_dir": data_dir,
            "rpc_url": rpc_url or chain.rpc_url,
            "registry": chain.deployment.registry,
            "ipfs_api": ipfs_api or devnet.status(chain.settings).ipfs_api,
            "notary_key_file": chain.settings.notary_key_path,
            "batch_interval_seconds": 0.3,
            "max_upload_bytes": UPLOAD_LIMIT,
            "database_url": database,
            **overrides,
        }
    )
    keys = create_organizations(data_dir, database)
    app = create_app(settings, start_batcher=batcher)
    url, server, thread = serve_in_thread(app)
    return Server(url, keys, app.state.service), server, thread


def serve_in_thread(app: FastAPI) -> tuple[str, uvicorn.Server, threading.Thread]:
    """Run `app` under a real uvicorn server on a free port, in a daemon thread; its URL.
    Stop it with `server.should_exit = True` and join the thread."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


@pytest.fixture(scope="session")
def api(chain, tmp_path_factory) -> Iterator[Server]:
    running, server, thread = start_server(chain, tmp_path_factory.mktemp("api"), batcher=True)
    yield running
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="session")
def api_paused(chain, tmp_path_factory) -> Iterator[Server]:
    """A server whose batcher does not run: deposits stay pending."""
    running, server, thread = start_server(
        chain, tmp_path_factory.mktemp("api-paused"), batcher=False
    )
    yield running
    server.should_exit = True
    thread.join(timeout=30)


@dataclass
class ServedProcess:
    """`notary serve` in a process of its own: a crash of the server (a segmentation fault)
    shows as a dead process instead of killing the test run."""

    url: str
    keys: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, who: str | None = "studio") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def assert_alive(self) -> None:
        assert self.process.poll() is None, (
            f"the server died (exit {self.process.returncode}): {self.log.read_text()[-3000:]}"
        )
        assert httpx.get(self.url + "/v1/health", timeout=10).status_code == 200


def serve_process(chain, data_dir: Path, **env: str) -> ServedProcess:
    """Start `notary serve` on `data_dir` with the four organizations of start_server."""
    keys = create_organizations(data_dir, None)
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NOTARY_")}
    environment.update(
        NOTARY_DATA_DIR=str(data_dir),
        NOTARY_RPC_URL=chain.rpc_url,
        NOTARY_REGISTRY=chain.deployment.registry,
        NOTARY_NOTARY_KEY_FILE=str(chain.settings.notary_key_path),
        NOTARY_IPFS_API=devnet.status(chain.settings).ipfs_api,
        NOTARY_BATCH_INTERVAL_SECONDS="0.3",
        NOTARY_MAX_UPLOAD_BYTES=str(UPLOAD_LIMIT),
        **env,
    )
    log = data_dir / "serve.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "notary"), "serve", "--port", str(port)],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = ServedProcess(f"http://127.0.0.1:{port}", keys, process, log)
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(served.url + "/v1/health", timeout=1).status_code == 200:
                return served
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "notary serve did not start: " + log.read_text()
        time.sleep(0.1)


def stop_process(served: ServedProcess) -> None:
    if served.process.poll() is None:
        served.process.terminate()
        try:
            served.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait()


@pytest.fixture(scope="session")
def served(chain, tmp_path_factory) -> Iterator[ServedProcess]:
    """A `notary serve` process (with its anchoring process) for hostile-input tests."""
    running = serve_process(chain, tmp_path_factory.mktemp("served"))
    yield running
    stop_process(running)
