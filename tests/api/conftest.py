"""A real uvicorn server (real sockets, real HTTP) over the session devnet."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from api.main import create_app
from notary import devnet
from notary.orgs import create_key, create_organization
from notary.service import NotaryService
from notary.store.db import database_url, make_engine, make_sessionmaker
from notary.store.models import Role
from tests.conftest import free_port

UPLOAD_LIMIT = 2 * 1024 * 1024  # above one 1 MiB chunk, so multi-block files fit


@dataclass
class Server:
    url: str
    keys: dict[str, str]
    service: NotaryService

    def client(self, who: str | None = "studio") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


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
    engine = make_engine(database_url(data_dir, database))
    factory = make_sessionmaker(engine)
    keys = {}
    for slug, role in (
        ("studio", Role.DEPOSITOR),
        ("copycat", Role.DEPOSITOR),
        ("court", Role.AUDITOR),
        ("operator", Role.ADMIN),
    ):
        create_organization(factory, slug + "-org", f"{slug} 组织", role)
        keys[slug] = create_key(factory, slug + "-org").secret
    engine.dispose()
    app = create_app(settings, start_batcher=batcher)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    return Server(f"http://127.0.0.1:{port}", keys, app.state.service), server, thread


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
