"""Depositor key changes approved by endorser nodes, the production path, over real HTTP: a
notary API (uvicorn) with NOTARY_DEVNET_KEY_APPROVAL off on a fresh 2-of-3
ConsortiumRegistry on the session anvil, three real EndorserNode objects with their own
keys (two in auto mode, one in manual mode), the real IPFS node and a real SQLite store.
The anchoring process's part (notary.anchoring.key_changes, then the batcher) is driven
cycle by cycle here, as tests/api/test_depositor_signatures.py drives the batcher.

A key registered -> pending -> k endorsers approve -> active on chain -> a signed deposit
anchors with a version 2 certificate that verifies; fewer than k approvals leave it pending;
the manual endorser signs only once its operator ran `notary endorser approve`; two changes
at once are applied one after the other (the second proposed again at the new config
nonce); a change the chain already holds (relayed before a kill -9) settles; a forged
consent and a change for an endorser's account are refused by every endorser, recorded as
refused, and never applied; removal the same way.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import select

from api.main import create_app
from api.routes.depositor_keys import SigningOut
from notary.anchoring.assembly import Anchoring
from notary.anchoring.batcher import Batcher, BatchPolicy
from notary.anchoring.key_changes import KeyChanges
from notary.anchoring.pinner import Pinner
from notary.anchoring.proposals import Proposals
from notary.chain import eip712
from notary.chain.consortium import ConsortiumWriter, deploy_consortium
from notary.chain.eip712 import MemberChange, Role
from notary.chain.registry import connect
from notary.client import NotaryClient
from notary.core import certificate as cert_format
from notary.core.depositor import organization_id
from notary.core.keccak import keccak256
from notary.endorser.node import EndorserNode, NodeConfig
from notary.ipfs.client import KuboRpc
from notary.issue.certificates import certificate
from notary.issue.trees import TreeCache
from notary.ops.devnet import rpc_call
from notary.ops.keys import write_key
from notary.service import NotaryService
from notary.store import depositor_keys as key_store
from notary.store.db import transaction
from notary.store.models import DepositorKey, KeyApproval
from notary.verify.certificate import Outcome, verify
from tests.api.conftest import create_organizations, serve_in_thread, wait_for
from tests.conftest import make_settings, run_cli

pytestmark = pytest.mark.devnet

ENDORSERS = [Account.from_key(secrets.token_bytes(32)) for _ in range(3)]


def _funded(rpc: str) -> LocalAccount:
    account: LocalAccount = Account.from_key(secrets.token_bytes(32))
    rpc_call(rpc, "anvil_setBalance", [account.address, hex(10**20)])
    return account


@dataclass
class Notary:
    url: str
    keys: dict[str, str]
    service: NotaryService
    registry: ConsortiumWriter
    data: Path
    nodes: list[EndorserNode]
    approvals: Path

    @property
    def changes(self) -> KeyChanges:
        """The anchoring process's side (a fresh one, as after a restart)."""
        return Proposals(self.service.factory, self.registry.reader()).key_changes

    def relay(self) -> int:
        """One key-change cycle of the anchoring process."""
        return self.changes.cycle(self.registry)

    def client(self, who: str = "studio", signer: LocalAccount | None = None) -> NotaryClient:
        return NotaryClient(self.url, self.keys[who], signer=signer, retries=0)

    def signed_deposit(self, key: LocalAccount) -> httpx.Response:
        """A hash deposit of the studio signed by `key`, as sent (no retries, no checks)."""
        sha = _sha(f"signed {secrets.token_hex(8)}")
        with self.client(signer=key) as signing:
            signature = signing.sign_deposit(sha, None, {})
        return httpx.post(
            f"{self.url}/v1/evidence/hash",
            json={"sha256": sha, "signature": signature},
            headers={"Authorization": f"Bearer {self.keys['studio']}"},
            timeout=30,
        )

    def listed(self) -> list[dict[str, object]]:
        response = httpx.get(f"{self.url}/v1/consortium/key-changes", timeout=30)
        assert response.status_code == 200, response.text
        listed: list[dict[str, object]] = response.json()
        return listed

    def state(self, address: str) -> DepositorKey:
        with transaction(self.service.factory) as session:
            row = session.scalar(select(DepositorKey).where(DepositorKey.address == address))
            assert row is not None
            session.expunge(row)
            return row


@pytest.fixture(scope="module")
def notary(chain, tmp_path_factory) -> Iterator[Notary]:
    rpc = chain.rpc_url
    data = tmp_path_factory.mktemp("key-approval")
    operator = _funded(rpc)
    members = [MemberChange(operator.address, Role.NOTARY, keccak256(b"op"), "公证处")] + [
        MemberChange(e.address, Role.ENDORSER, keccak256(f"court {i}".encode()), f"法院 {i}")
        for i, e in enumerate(ENDORSERS)
    ]
    w3 = connect(rpc)
    address = deploy_consortium(w3, operator, members, 2, rpc)
    ipfs_api = f"http://127.0.0.1:{chain.settings.ipfs_port}"
    settings = chain.settings.model_copy(
        update={
            "data_dir": data,
            "rpc_url": rpc,
            "registry": address,
            "ipfs_api": ipfs_api,
            "notary_key_file": data / "keys" / "notary.key",
            "admin_key_file": data / "keys" / "admin.key",
            "database_url": None,
            "consortium_endorsers": 3,
            "consortium_threshold": 2,
            "key_cache_seconds": 0.2,
            "devnet_key_approval": False,  # the production path: the endorser nodes approve
            "consortium_requests_burst": 1000,
            "consortium_requests_per_second": 1000.0,
        }
    )
    write_key(data / "keys" / "notary.key", operator)
    keys = create_organizations(data, None)
    app = create_app(settings, start_batcher=False)
    url, server, thread = serve_in_thread(app)
    approvals = data / "approvals.jsonl"
    modes = ["auto", "auto", "manual"]
    nodes = [
        EndorserNode(
            e,
            NodeConfig(
                notary_url=url,
                ipfs_api=ipfs_api,
                registry=address,
                rpc_url=rpc,
                depositor_keys=mode,  # type: ignore[arg-type]
                approvals_file=approvals if mode == "manual" else None,
                heartbeat_seconds=3600,
            ),
        )
        for e, mode in zip(ENDORSERS, modes, strict=True)
    ]
    for node in nodes:
        node.connect_chain()
    try:
        yield Notary(
            url,
            keys,
            app.state.service,
            ConsortiumWriter(w3, address, operator, rpc),
            data,
            nodes,
            approvals,
        )
    finally:
        for node in nodes:
            node.http.close()
            node.ipfs.close()
        server.should_exit = True
        thread.join(timeout=30)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _register(notary: Notary, who: str = "studio") -> LocalAccount:
    key: LocalAccount = Account.from_key(secrets.token_bytes(32))
    with notary.client(who) as client:
        registered = client.register_depositor_key(key)
    assert registered["state"] == "pending" and registered["added_tx"] is None
    return key


def _anchor_and_verify(notary: Notary, chain, evidence_id: str, tmp_path: Path) -> list[str]:
    """Form, pin, have the endorser nodes endorse and anchor the pending deposits; the
    certificate's verdict lines (proven) for `evidence_id`."""
    store = notary.service.factory
    ipfs = KuboRpc(f"http://127.0.0.1:{chain.settings.ipfs_port}")
    batcher = Batcher(store, notary.registry, BatchPolicy(max_leaves=100, interval_seconds=0))
    try:
        batcher.run_once(force=True)
        assert Pinner(store, ipfs, notary.data / "spool").pin_manifests() == 1
    finally:
        ipfs.close()
    batcher.run_once()
    assert sum(node.cycle() for node in notary.nodes) == 3  # every endorser checked it
    batcher.run_once()
    org = notary.service.authenticate(notary.keys["studio"])
    text = cert_format.dumps(certificate(store, TreeCache(), org, evidence_id))
    verdict = verify(text, chain.rpc_url)
    assert verdict.outcome is Outcome.VALID, verdict.reason
    return list(verdict.proven)


def test_a_key_is_active_once_k_endorsers_approved_and_its_deposits_verify(
    notary: Notary, chain, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = _register(notary)
    auto, other_auto, manual = notary.nodes
    assert notary.listed() == []  # not proposed until the anchoring process runs
    assert notary.relay() == 0
    (listed,) = notary.listed()
    assert listed["account"] == key.address and listed["role"] == "DEPOSITOR"
    assert listed["depositor"] == "org:studio-org"
    assert listed["organization"] == "0x" + organization_id("org:studio-org").hex()
    assert listed["nonce"] == notary.registry.config_nonce()
    assert listed["approvals"] == 0 and listed["consent"]
    digest = bytes.fromhex(str(listed["digest"])[2:])
    change = notary.changes.proposed()[0]
    assert (
        notary.registry.config_change_digest(
            [change.member_change()], change.threshold, change.nonce, change.deadline
        )
        == digest
    )  # the contract computes the same digest the endorsers sign

    # one approval (k = 2): stays pending, nothing breaks; the manual node waits
    assert auto.keys.cycle(auto.reader, auto.chain_id) == 1
    with caplog.at_level(logging.WARNING, logger="notary.endorser"):
        assert manual.keys.cycle(manual.reader, manual.chain_id) == 0
    assert f"awaits this operator's approval: add DEPOSITOR {key.address}" in caplog.text
    for _ in range(3):
        assert notary.relay() == 0
    assert notary.state(key.address).state == "pending"
    assert notary.registry.member(key.address).role is Role.NONE
    assert notary.signed_deposit(key).json()["error"]["code"] == "signer_not_registered"

    # the manual endorser's operator approves it: the second approval, k reached
    approved = run_cli(
        make_settings(tmp_path),
        "endorser",
        "approve",
        key.address,
        "--notary-url",
        notary.url,
        "--approvals",
        str(notary.approvals),
    )
    assert approved.returncode == 0, approved.stderr
    assert "add DEPOSITOR" in approved.stdout and key.address in approved.stdout
    assert manual.keys.cycle(manual.reader, manual.chain_id) == 1
    assert notary.listed()[0]["approvals"] == 2
    assert notary.relay() == 1
    row = notary.state(key.address)
    assert row.state == "active" and row.added_tx
    assert notary.registry.last_member_tx(key.address) == row.added_tx
    member = notary.registry.member(key.address)
    assert (member.role, member.organization) == (
        Role.DEPOSITOR,
        organization_id("org:studio-org"),
    )
    assert notary.listed() == []
    assert other_auto.keys.cycle(other_auto.reader, other_auto.chain_id) == 0  # nothing left

    with notary.client(signer=key) as client:
        deposit = client.deposit_hash(_sha(f"approved {secrets.token_hex(4)}"))
    assert deposit["signer"] == key.address
    proven = _anchor_and_verify(notary, chain, deposit["id"], tmp_path)
    assert f"Deposited and signed by studio 组织 ({key.address})." in proven


def test_two_changes_apply_one_after_the_other_and_one_found_on_chain_settles(
    notary: Notary,
) -> None:
    first, second = _register(notary), _register(notary, "copycat")
    auto, other_auto, _ = notary.nodes
    assert notary.relay() == 0
    nonce = notary.registry.config_nonce()
    assert {c["nonce"] for c in notary.listed()} == {nonce}
    for node in (auto, other_auto):
        assert node.keys.cycle(node.reader, node.chain_id) == 2
    assert notary.relay() == 1  # one change per config nonce
    done = [a.address for a in (first, second) if notary.state(a.address).state == "active"]
    assert len(done) == 1
    waiting = second if done == [first.address] else first
    (again,) = notary.listed()  # the other, not yet proposed again
    assert notary.relay() == 0
    (again,) = notary.listed()
    assert again["account"] == waiting.address and again["nonce"] == nonce + 1
    assert again["approvals"] == 0  # the old approvals can never be relayed
    for node in (auto, other_auto):
        assert node.keys.cycle(node.reader, node.chain_id) == 1

    # the anchoring process relayed it and died (kill -9) before recording it: the chain
    # holds the change, the next cycle (a fresh KeyChanges, as after a restart) settles it
    change = notary.changes.proposed()[0]
    with transaction(notary.service.factory) as session:
        signatures = [
            (a.signer, a.signature)
            for a in session.scalars(
                select(KeyApproval).where(KeyApproval.digest == change.digest())
            )
        ]
    receipt = notary.registry.change_config(
        [change.member_change()],
        change.threshold,
        change.nonce,
        change.deadline,
        eip712.sorted_signatures(signatures),
    )
    assert notary.state(waiting.address).state == "pending"
    assert notary.relay() == 0
    row = notary.state(waiting.address)
    assert row.state == "active"
    assert row.added_tx == "0x" + bytes(receipt["transactionHash"]).hex()
    assert notary.listed() == []


def test_forged_consent_and_an_endorser_account_are_refused_and_never_applied(
    notary: Notary,
) -> None:
    """Rows the API would refuse, put in the store directly (a notary that lies, or a bug):
    the endorsers check for themselves."""
    factory = notary.service.factory
    org = notary.service.authenticate(notary.keys["court"])
    info_registry, chain_id = notary.registry.address, notary.registry.chain_id()
    victim: LocalAccount = Account.from_key(secrets.token_bytes(32))
    forger: LocalAccount = Account.from_key(secrets.token_bytes(32))
    forged = eip712.sign(
        forger,
        eip712.depositor_key_typed_data(chain_id, info_registry, victim.address, "org:court-org"),
    )
    endorser = ENDORSERS[0]
    consent = eip712.sign(
        endorser,
        eip712.depositor_key_typed_data(chain_id, info_registry, endorser.address, "org:court-org"),
    )
    key_store.begin_add(factory, org, victim.address, "court 组织", info_registry, forged)
    key_store.begin_add(factory, org, endorser.address, "court 组织", info_registry, consent)
    nonce = notary.registry.config_nonce()
    assert notary.relay() == 0
    assert {c["account"] for c in notary.listed()} == {victim.address, endorser.address}
    for node in notary.nodes:
        assert node.keys.cycle(node.reader, node.chain_id) == 0
    assert "recovers to" in (notary.state(victim.address).last_refusal or "")
    assert "already holds the role ENDORSER" in (notary.state(endorser.address).last_refusal or "")
    # the organization reads why in GET /v1/depositor-keys (an auditor role here, so the
    # answer is built as the route builds it)
    answer = SigningOut.of(notary.service.depositor_signing(org)).model_dump()
    shown = {k["address"]: k for k in answer["keys"]}
    assert "recovers to" in (shown[victim.address]["last_refusal"] or "")
    assert shown[victim.address]["state"] == "pending"
    for _ in range(2):
        assert notary.relay() == 0
    assert notary.registry.config_nonce() == nonce
    assert notary.registry.member(victim.address).role is Role.NONE
    assert notary.registry.member(endorser.address).role is Role.ENDORSER
    assert notary.state(victim.address).state == "pending"
    # a signature that is not an endorser's is refused by the notary too
    digest = str(notary.listed()[0]["digest"])
    stranger = httpx.post(
        f"{notary.url}/v1/consortium/key-changes/{digest}/approvals",
        json={
            "signature": "0x" + eip712.sign(forger, notary.changes.proposed()[0].typed_data()).hex()
        },
        timeout=30,
    )
    assert stranger.status_code == 403, stranger.text
    for address in (victim.address, endorser.address):  # out of the other tests' way
        key_store.begin_remove(factory, org, address)


def test_a_removal_is_applied_once_k_endorsers_approved(notary: Notary) -> None:
    key = _register(notary)
    auto, other_auto, manual = notary.nodes
    assert notary.relay() == 0
    for node in (auto, other_auto):
        node.keys.cycle(node.reader, node.chain_id)
    assert notary.relay() == 1
    assert notary.state(key.address).state == "active"
    with notary.client() as client:
        assert client.remove_depositor_key(key.address)["state"] == "removing"
    assert notary.relay() == 0
    (listed,) = notary.listed()
    assert (listed["role"], listed["consent"], listed["name"]) == ("NONE", None, "")
    assert listed["organization"] == "0x" + bytes(32).hex()
    assert auto.keys.cycle(auto.reader, auto.chain_id) == 1
    assert manual.keys.cycle(manual.reader, manual.chain_id) == 0  # not approved by hand
    assert notary.relay() == 0
    assert notary.state(key.address).state == "removing"
    assert notary.registry.member(key.address).role is Role.DEPOSITOR
    assert other_auto.keys.cycle(other_auto.reader, other_auto.chain_id) == 1
    assert notary.relay() == 1
    row = notary.state(key.address)
    assert row.state == "removed" and row.removed_tx
    assert notary.registry.member(key.address).role is Role.NONE
    refused = notary.signed_deposit(key)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "signer_not_registered"


def test_the_anchoring_loop_relays_a_change_endorser_nodes_approve_in_their_own_loops(
    notary: Notary,
) -> None:
    """The anchoring process's loops (notary.anchoring.assembly) and two endorser nodes'
    run loops, in threads: nothing driven by hand."""
    settings = notary.service.settings
    parts = Anchoring(settings)
    stop = threading.Event()
    threads = parts.start_loops(stop)
    nodes = [
        EndorserNode(e, dataclasses.replace(notary.nodes[0].config, poll_seconds=0.2))
        for e in ENDORSERS[1:]
    ]  # their own (run closes its clients), both auto
    loops = [threading.Thread(target=node.run, args=(stop,), daemon=True) for node in nodes]
    try:
        for thread in loops:
            thread.start()
        key = _register(notary)
        wait_for(
            lambda: notary.state(key.address).state == "active", "the key to become active", 30
        )
        assert notary.registry.member(key.address).role is Role.DEPOSITOR
    finally:
        stop.set()
        for thread in [*threads, *loops]:
            thread.join(timeout=30)
        parts.close()
