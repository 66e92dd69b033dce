"""The endorser node against a fault-injected notary: it refuses what it must, says why in
its log and to the notary, and signs only a batch it rebuilt itself.

The notary here is a small HTTP stand-in whose proposals the test writes (a real notary
never proposes a manifest that does not rebuild its root: that is the fault injected);
the IPFS node is the session devnet's real one, the keys are real secp256k1 keys, and
every signature posted is recovered with the EIP-712 code the registry agrees with.
"""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from notary.chain.eip712 import Batch, Report, recover_endorser, recover_reporter
from notary.core import manifest
from notary.endorser.checks import Tolerance
from notary.endorser.node import EndorserNode, NodeConfig, check_key_file
from notary.errors import ConfigError
from notary.ipfs.client import KuboRpc
from notary.ops.keys import write_key
from tests.conftest import free_port, run_cli

REGISTRY = "0x" + "ab" * 20
CHAIN_ID = 31337


class FakeNotary:
    """Serves the proposals the test sets; records what endorsers post."""

    def __init__(self) -> None:
        self.proposals: list[dict[str, Any]] = []
        self.posts: list[tuple[str, dict[str, Any]]] = []
        notary = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._answer(json.dumps(notary.proposals).encode())

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                notary.posts.append((self.path, body))
                self._answer(json.dumps({"signer": "?"}).encode())

            def _answer(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def propose(self, root: bytes, leaf_count: int, cid: str, batch_time: int) -> None:
        self.proposals = [
            {
                "root": "0x" + root.hex(),
                "leaf_count": leaf_count,
                "manifest": cid,
                "batch_time": batch_time,
                "chain_id": CHAIN_ID,
                "registry": REGISTRY,
                "endorsements": 0,
                "threshold": 2,
            }
        ]

    def reports(self) -> list[dict[str, Any]]:
        return [b for p, b in self.posts if p == "/v1/consortium/reports" and b["refusal"]]

    def endorsements(self) -> list[tuple[str, dict[str, Any]]]:
        return [(p, b) for p, b in self.posts if p.endswith("/endorsements")]


@pytest.fixture(scope="module")
def ipfs(chain) -> Iterator[KuboRpc]:
    client = KuboRpc(f"http://127.0.0.1:{chain.settings.ipfs_port}")
    yield client
    client.close()


@pytest.fixture
def notary() -> Iterator[FakeNotary]:
    fake = FakeNotary()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def node(chain, notary: FakeNotary) -> Iterator[EndorserNode]:
    account = Account.from_key(secrets.token_bytes(32))
    config = NodeConfig(
        notary_url=notary.url,
        ipfs_api=f"http://127.0.0.1:{chain.settings.ipfs_port}",
        registry=REGISTRY,
        tolerance=Tolerance(future_seconds=30, max_age_seconds=600),
        ipfs_timeout_seconds=5,
    )
    endorser = EndorserNode(account, config)
    endorser.chain_id = CHAIN_ID  # no chain node given: the proposals' chain is trusted
    yield endorser
    endorser.http.close()
    endorser.ipfs.close()


def _pinned_manifest(ipfs: KuboRpc, n: int) -> tuple[bytes, bytes, str]:
    leaves = [secrets.token_bytes(32) for _ in range(n)]
    data, root = manifest.encode(leaves)
    cid = ipfs.add(io.BytesIO(data), "manifest.json")
    assert cid == manifest.cid_of(data)
    return data, root, cid


def _refusal(notary: FakeNotary, node: EndorserNode) -> str:
    (report,) = notary.reports()
    signed = Report(
        bytes.fromhex(report["root"][2:]),
        report["batch_time"],
        report["refusal"],
        report["sent_at"],
    )
    signature = bytes.fromhex(report["signature"][2:])
    assert recover_reporter(signature, CHAIN_ID, REGISTRY, signed) == node.address
    assert notary.endorsements() == []
    return str(report["refusal"])


def test_a_batch_it_rebuilt_is_endorsed_with_a_signature_of_its_key(notary, node, ipfs) -> None:
    _, root, cid = _pinned_manifest(ipfs, 5)
    batch_time = int(time.time()) - 3
    notary.propose(root, 5, cid, batch_time)
    assert node.cycle() == 1
    ((path, body),) = notary.endorsements()
    assert path == f"/v1/consortium/proposals/0x{root.hex()}/endorsements"
    signed = Batch(root, 5, cid, batch_time)
    signature = bytes.fromhex(body["signature"][2:])
    assert recover_endorser(signature, CHAIN_ID, REGISTRY, signed) == node.address
    assert notary.reports() == []
    assert node.cycle() == 0  # decided once: not signed again


def test_a_manifest_that_does_not_rebuild_the_root_is_refused(notary, node, ipfs, caplog) -> None:
    _, real_root, cid = _pinned_manifest(ipfs, 4)
    claimed = bytes(a ^ 1 for a in real_root)  # the faulty notary names another root
    notary.propose(claimed, 4, cid, int(time.time()))
    with caplog.at_level(logging.WARNING, logger="notary.endorser"):
        assert node.cycle() == 0
    reason = _refusal(notary, node)
    assert f"rebuild root 0x{real_root.hex()}" in reason and claimed.hex() in reason
    assert "REFUSED" in caplog.text and claimed.hex() in caplog.text
    assert node.account.key.hex() not in caplog.text


def test_a_wrong_leaf_count_is_refused(notary, node, ipfs) -> None:
    _, root, cid = _pinned_manifest(ipfs, 3)
    notary.propose(root, 4, cid, int(time.time()))
    node.cycle()
    assert "the manifest has 3 leaves, the proposal says 4" in _refusal(notary, node)


def test_an_unretrievable_manifest_is_refused_once(notary, node) -> None:
    data, root = manifest.encode([secrets.token_bytes(32) for _ in range(2)])
    cid = manifest.cid_of(data)  # never added to any IPFS node
    notary.propose(root, 2, cid, int(time.time()))
    node.cycle()
    assert "not retrievable" in _refusal(notary, node)
    node.unretrievable = {k: 0.0 for k in node.unretrievable}  # due for a retry now
    node.cycle()
    assert len(notary.reports()) == 1  # tried again, refused quietly: one history line


@pytest.mark.parametrize(
    ("offset", "words"), [(-3600, "behind this endorser's clock"), (120, "ahead of")]
)
def test_a_batch_time_off_its_clock_is_refused(notary, node, ipfs, offset, words) -> None:
    _, root, cid = _pinned_manifest(ipfs, 2)
    notary.propose(root, 2, cid, int(time.time()) + offset)
    node.cycle()
    assert words in _refusal(notary, node)


def test_a_proposal_for_another_registry_is_refused(notary, node, ipfs) -> None:
    _, root, cid = _pinned_manifest(ipfs, 2)
    notary.propose(root, 2, cid, int(time.time()))
    notary.proposals[0]["registry"] = "0x" + "cd" * 20
    node.cycle()
    assert notary.endorsements() == []
    assert "this endorser serves" in notary.reports()[0]["refusal"]


def test_a_key_file_others_can_read_is_refused(tmp_path: Path, chain) -> None:
    key = tmp_path / "endorser.key"
    write_key(key, Account.from_key(secrets.token_bytes(32)))
    check_key_file(key)  # 0600: accepted
    os.chmod(key, 0o640)
    with pytest.raises(ConfigError, match="chmod 600"):
        check_key_file(key)
    result = run_cli(
        chain.settings,
        "endorser",
        "run",
        "--key",
        str(key),
        "--notary-url",
        "http://127.0.0.1:9",
        "--ipfs-api",
        f"http://127.0.0.1:{chain.settings.ipfs_port}",
    )
    assert result.returncode != 0
    assert "0640" in result.stderr and key.read_text().strip() not in result.stderr
