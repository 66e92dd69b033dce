"""The pinner's failure paths. A fake IpfsStore injects faults the real node never shows
(answering with another CID, failing again and again); auth runs against the real node."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess

import pytest
from sqlalchemy import select

from notary.anchoring.pinner import MAX_PIN_ATTEMPTS, Pinner
from notary.core.unixfs import UnixfsHasher
from notary.deposit.request import DepositRequest, deposit
from notary.errors import IpfsError, IpfsUnavailableError
from notary.ipfs.client import KuboRpc
from notary.ops.toolchain import IPFS_SERVER, NODE22_BIN
from notary.store.db import make_engine, make_sessionmaker, transaction
from notary.store.models import Evidence, Role
from notary.store.orgs import create_organization
from tests.conftest import free_port


class FaultyStore:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.calls = 0

    def add(self, stream, name, *, pin=True, only_hash=False) -> str:
        self.calls += 1
        if self.mode == "down":
            raise IpfsUnavailableError("node down")
        if self.mode == "error":
            raise IpfsError("disk full")
        return "bafkreiwrongwrongwrongwrongwrongwrongwrongwrongwrongwrong"


@pytest.fixture
def spooled(tmp_path):
    factory = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    org = create_organization(factory, "studio", "Studio", Role.DEPOSITOR)
    spool = tmp_path / "spool"
    spool.mkdir()
    data = os.urandom(3000)
    (spool / "abc").write_bytes(data)
    hasher = UnixfsHasher()
    hasher.update(data)

    deposit(
        factory,
        org,
        [
            DepositRequest(
                sha256=hashlib.sha256(data).digest(),
                sm3=None,
                metadata={"name": "a.png"},
                kind="file",
                cid=hasher.cid(),
                spool="abc",
            )
        ],
    )
    return factory, spool


def state(factory) -> tuple[str, int, str, str | None]:
    with transaction(factory) as session:
        e = session.scalars(select(Evidence)).one()
        return e.pin_state, e.pin_attempts, e.pin_error, e.spool


def test_node_down_is_retried_forever_without_counting(spooled) -> None:
    factory, spool = spooled
    pinner = Pinner(factory, FaultyStore("down"), spool)
    for _ in range(MAX_PIN_ATTEMPTS + 2):
        with pytest.raises(IpfsUnavailableError):
            pinner.run_once()
    assert state(factory)[:2] == ("pending", 0)
    assert (spool / "abc").exists()


def test_errors_give_up_after_max_attempts_and_keep_the_file(spooled) -> None:
    factory, spool = spooled
    store = FaultyStore("error")
    pinner = Pinner(factory, store, spool)
    for _ in range(MAX_PIN_ATTEMPTS + 3):
        pinner.run_once()
    pin_state, attempts, error, kept = state(factory)
    assert (pin_state, attempts, error) == ("failed", MAX_PIN_ATTEMPTS, "disk full")
    assert store.calls == MAX_PIN_ATTEMPTS  # no more tries once failed
    assert kept == "abc" and (spool / "abc").exists()


def test_another_cid_fails_at_once(spooled) -> None:
    factory, spool = spooled
    Pinner(factory, FaultyStore("wrong-cid"), spool).run_once()
    pin_state, _, error, kept = state(factory)
    assert pin_state == "failed" and "does not apply the unixfs-v1-2025 profile" in error
    assert kept == "abc" and (spool / "abc").exists()


def test_missing_spool_file_is_reported(spooled) -> None:
    factory, spool = spooled
    (spool / "abc").unlink()
    Pinner(factory, FaultyStore("wrong-cid"), spool).run_once()
    assert state(factory)[:3] == ("failed", 0, "the spooled file is missing")


def test_token_protected_node(tmp_path) -> None:
    port = free_port()
    env = {**os.environ, "NOTARY_IPFS_TOKEN": "s3cret-token"}
    node = subprocess.Popen(
        [str(NODE22_BIN), str(IPFS_SERVER), "--repo", str(tmp_path), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
    )
    try:
        assert json.loads(node.stdout.readline())["ready"] is True
        api = f"http://127.0.0.1:{port}"
        with pytest.raises(IpfsError):
            KuboRpc(api).identity()
        authorized = KuboRpc(api, token="s3cret-token")
        cid = authorized.add(io.BytesIO(b"hello world\n"), "h.txt")
        assert cid == "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"
    finally:
        node.terminate()
        node.wait(timeout=30)
        node.stdout.close()
