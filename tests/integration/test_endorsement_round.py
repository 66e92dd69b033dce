"""The notary's side of the endorsement round, on the real anvil, IPFS node and database:
proposal after the manifest is pinned, endorsements checked against the registry's
current endorsers, re-proposal with a fresh batch time (old endorsements discarded), a
signed refusal in the batch's history, and the anchor once k endorsements are stored,
exactly once, with a version 2 certificate that verifies.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from eth_account import Account
from sqlalchemy import select

from api.main import create_app
from notary.anchoring.batcher import Batcher, BatchPolicy
from notary.anchoring.pinner import Pinner
from notary.anchoring.proposals import Proposals
from notary.chain.consortium import ConsortiumWriter, deploy_consortium
from notary.chain.eip712 import Batch as SignedBatch
from notary.chain.eip712 import MemberChange, Report, Role, sign_endorsement, sign_report
from notary.chain.registry import connect
from notary.core import certificate as cert_format
from notary.core.keccak import keccak256
from notary.deposit.request import DepositRequest, deposit
from notary.endorser.node import EndorserNode, NodeConfig
from notary.errors import ConflictError, ForbiddenError, ValidationError
from notary.ipfs.client import KuboRpc
from notary.issue.certificates import certificate
from notary.issue.trees import TreeCache
from notary.issue.views import view
from notary.ops.devnet import rpc_call
from notary.ops.keys import write_key
from notary.store.db import transaction
from notary.store.models import Batch, BatchEvent, BatchStatus, Endorsement
from notary.store.models import Role as OrgRole
from notary.store.orgs import create_organization
from notary.verify.certificate import Outcome, verify
from tests.api.conftest import serve_in_thread

pytestmark = pytest.mark.devnet

ENDORSERS = [Account.from_key(secrets.token_bytes(32)) for _ in range(3)]
STRANGER = Account.from_key(secrets.token_bytes(32))


@pytest.fixture(scope="module")
def registry(chain) -> ConsortiumWriter:
    """A fresh 2-of-3 registry; its notary is a fresh funded account (no shared nonces)."""
    notary = Account.from_key(secrets.token_bytes(32))
    rpc_call(chain.rpc_url, "anvil_setBalance", [notary.address, hex(10**20)])
    members = [MemberChange(notary.address, Role.NOTARY, keccak256(b"op"), "operator")] + [
        MemberChange(e.address, Role.ENDORSER, keccak256(f"org {i}".encode()), f"法院 {i}")
        for i, e in enumerate(ENDORSERS)
    ]
    w3 = connect(chain.rpc_url)
    address = deploy_consortium(w3, notary, members, 2, chain.rpc_url)
    return ConsortiumWriter(w3, address, notary, chain.rpc_url)


def _endorse(proposals: Proposals, account, batch: Batch) -> str:
    assert batch.batch_time is not None
    signed = SignedBatch(batch.root, batch.leaf_count, batch.manifest, batch.batch_time)
    signature = sign_endorsement(account, proposals.chain_id(), proposals.reader.address, signed)
    return proposals.endorse(batch.root, batch.batch_time, signature)


def _batch(store) -> Batch:
    with transaction(store) as session:
        (batch,) = session.scalars(select(Batch)).all()
        return batch


def _events(store) -> list[str]:
    with transaction(store) as session:
        return list(session.scalars(select(BatchEvent.kind).order_by(BatchEvent.id)))


def test_a_batch_is_proposed_endorsed_and_anchored_once(chain, store, registry, tmp_path) -> None:
    org = create_organization(store, "studio-e", "Studio E", OrgRole.DEPOSITOR)
    requests = [
        DepositRequest(hashlib.sha256(f"endorsed {i}".encode()).digest(), None, {}, "hash")
        for i in range(5)
    ]
    ids = [o.public_id for o in deposit(store, org, requests)]
    batcher = Batcher(store, registry, BatchPolicy(max_leaves=100, interval_seconds=0))
    proposals = Proposals(store, registry.reader())
    ipfs = KuboRpc(f"http://127.0.0.1:{chain.settings.ipfs_port}")
    try:
        batcher.run_once(force=True)
        assert _batch(store).status == BatchStatus.BUILT.value  # manifest not pinned yet
        assert proposals.pending() == []
        assert Pinner(store, ipfs, tmp_path).pin_manifests() == 1
    finally:
        ipfs.close()
    batcher.run_once()
    first = _batch(store)
    assert first.status == BatchStatus.AWAITING_ENDORSEMENT.value and first.batch_time
    assert view(store, org, ids[0]).status == "awaiting_endorsement"
    (listed,) = proposals.pending()
    assert (listed.root, listed.leaf_count, listed.threshold) == (first.root, 5, 2)

    # refused: not a member, a stale batch time, a malformed signature
    with pytest.raises(ForbiddenError):
        _endorse(proposals, STRANGER, first)
    with pytest.raises(ConflictError, match="proposed with batch time"):
        proposals.endorse(first.root, first.batch_time - 1, bytes(65))
    with pytest.raises(ValidationError):
        proposals.endorse(first.root, first.batch_time, b"\x01" * 64)
    assert _endorse(proposals, ENDORSERS[0], first) == ENDORSERS[0].address
    batcher.run_once()
    assert _batch(store).status == BatchStatus.AWAITING_ENDORSEMENT.value  # 1 < k

    # too old for the window: proposed again, the old endorsement discarded
    assert batcher.endorsing is not None
    batcher.endorsing.proposal_seconds = 0
    time.sleep(1.1)
    batcher.run_once()
    batcher.endorsing.proposal_seconds = 3000
    second = _batch(store)
    assert second.batch_time is not None and second.batch_time > first.batch_time
    with transaction(store) as session:
        assert session.scalars(select(Endorsement)).all() == []
    with pytest.raises(ConflictError):
        _endorse(proposals, ENDORSERS[0], first)  # signed for the old batch time

    # a signed refusal goes into every deposit's history
    report = Report(second.root, second.batch_time, "clock says no", int(time.time()))
    signature = sign_report(ENDORSERS[0], proposals.chain_id(), registry.address, report)
    assert proposals.report(report, signature) == ENDORSERS[0].address
    history = [h[2] for h in view(store, org, ids[0]).history]
    assert any("法院 0" in d and "clock says no" in d for d in history)

    _endorse(proposals, ENDORSERS[2], second)
    _endorse(proposals, ENDORSERS[1], second)
    batcher.run_once()
    anchored = _batch(store)
    assert anchored.status == BatchStatus.ANCHORED.value
    assert anchored.endorsement_threshold == 2
    on_chain = registry.endorsement_of(anchored.root)
    assert set(on_chain.endorsers) == {ENDORSERS[1].address, ENDORSERS[2].address}
    assert on_chain.batch_time == second.batch_time
    logs = registry.contract.events.Anchored().get_logs(
        argument_filters={"root": anchored.root}, from_block=0
    )
    assert len(logs) == 1
    kinds = _events(store)
    assert kinds.count("proposed") == 1 and kinds.count("reproposed") == 1
    assert kinds.count("endorsed") == 3 and "endorsement_refused" in kinds

    text = cert_format.dumps(certificate(store, TreeCache(), org, ids[0]))
    doc = json.loads(text)
    assert doc["version"] == 2
    verdict = verify(text, chain.rpc_url)
    assert verdict.outcome is Outcome.VALID, verdict


def test_endorser_processes_over_http_refuse_a_root_the_manifest_does_not_rebuild(
    chain, registry, tmp_path
) -> None:
    """A real notary API (uvicorn) whose batch root is corrupted after its manifest was
    pinned (the fault injected): the three endorsers refuse it, their refusals are in the
    batch's history, nothing is anchored; a sound batch after it is endorsed and anchored."""
    notary_key = tmp_path / "keys" / "notary.key"
    write_key(notary_key, registry.account)
    ipfs_api = f"http://127.0.0.1:{chain.settings.ipfs_port}"
    settings = chain.settings.model_copy(
        update={
            "data_dir": tmp_path / "notary",
            "rpc_url": chain.rpc_url,
            "registry": registry.address,
            "ipfs_api": ipfs_api,
            "notary_key_file": notary_key,
            "database_url": None,
            "consortium_endorsers": 3,
            "consortium_threshold": 2,
        }
    )
    app = create_app(settings, start_batcher=False)
    url, server, thread = serve_in_thread(app)
    nodes = [
        EndorserNode(
            account,
            NodeConfig(
                notary_url=url, ipfs_api=ipfs_api, registry=registry.address, rpc_url=chain.rpc_url
            ),
        )
        for account in ENDORSERS
    ]
    ipfs = KuboRpc(ipfs_api)
    try:
        factory = app.state.service.factory
        org = create_organization(factory, "studio-h", "Studio H", OrgRole.DEPOSITOR)
        batcher = Batcher(factory, registry, BatchPolicy(max_leaves=100, interval_seconds=0))
        pinner = Pinner(factory, ipfs, tmp_path / "spool")

        def new_batch(salt: str) -> Batch:
            requests = [
                DepositRequest(hashlib.sha256(f"{salt} {i}".encode()).digest(), None, {}, "hash")
                for i in range(3)
            ]
            deposit(factory, org, requests)
            batcher.run_once(force=True)
            assert pinner.pin_manifests() == 1
            with transaction(factory) as session:
                return session.scalars(select(Batch).order_by(Batch.id.desc())).first()

        bad = new_batch("corrupted")
        forged = keccak256(b"a root the manifest does not rebuild")
        with transaction(factory) as session:  # the fault: the notary's root is wrong
            session.get(Batch, bad.id).root = forged
        batcher.run_once()
        for node in nodes:
            node.connect_chain()
            assert node.cycle() == 0
        with transaction(factory) as session:
            refusals = session.scalars(
                select(BatchEvent.detail).where(
                    BatchEvent.batch_id == bad.id, BatchEvent.kind == "endorsement_refused"
                )
            ).all()
            assert session.scalars(select(Endorsement)).all() == []
        assert len(refusals) == 3 and all("rebuild root" in r for r in refusals)
        batcher.run_once()
        with transaction(factory) as session:
            assert session.get(Batch, bad.id).status == BatchStatus.AWAITING_ENDORSEMENT.value
        assert registry.anchor_of(forged).sequence == 0
        seen = httpx.get(url + "/v1/consortium/endorsers", timeout=10).json()
        assert {e["address"] for e in seen if e["last_seen"]} == {a.address for a in ENDORSERS}

        good = new_batch("sound")
        batcher.run_once()
        assert sum(node.cycle() for node in nodes) == 3
        batcher.run_once()
        with transaction(factory) as session:
            assert session.get(Batch, good.id).status == BatchStatus.ANCHORED.value
        assert len(registry.endorsement_of(good.root).endorsers) >= 2
    finally:
        ipfs.close()
        for node in nodes:
            node.http.close()
            node.ipfs.close()
        server.should_exit = True
        thread.join(timeout=30)


def test_the_same_endorsement_and_first_heartbeats_posted_at_once(
    chain, store, registry, tmp_path
) -> None:
    """Posts racing for one unique row (an endorser's retry overlapping its first post, two
    first heartbeats) all succeed and leave one row: none becomes a 503."""
    org = create_organization(store, "studio-r", "Studio R", OrgRole.DEPOSITOR)
    deposit(store, org, [DepositRequest(secrets.token_bytes(32), None, {}, "hash")])
    batcher = Batcher(store, registry, BatchPolicy(max_leaves=100, interval_seconds=0))
    proposals = Proposals(store, registry.reader())
    batcher.run_once(force=True)
    ipfs = KuboRpc(f"http://127.0.0.1:{chain.settings.ipfs_port}")
    try:
        Pinner(store, ipfs, tmp_path).pin_manifests()
    finally:
        ipfs.close()
    batcher.run_once()
    with transaction(store) as session:
        batch = session.scalars(select(Batch).order_by(Batch.id.desc())).first()
        assert batch.status == BatchStatus.AWAITING_ENDORSEMENT.value
    signed = SignedBatch(batch.root, batch.leaf_count, batch.manifest, batch.batch_time)
    endorsement = sign_endorsement(ENDORSERS[0], proposals.chain_id(), registry.address, signed)
    beat = Report(bytes(32), 0, "", int(time.time()))
    beats = [sign_report(e, proposals.chain_id(), registry.address, beat) for e in ENDORSERS]
    with ThreadPoolExecutor(max_workers=8) as pool:
        endorsed = list(
            pool.map(
                lambda _: proposals.endorse(batch.root, batch.batch_time, endorsement), range(8)
            )
        )
        heard = list(pool.map(lambda s: proposals.report(beat, s), beats * 3))
    assert set(endorsed) == {ENDORSERS[0].address}
    assert sorted(set(heard)) == sorted(e.address for e in ENDORSERS)
    with transaction(store) as session:
        rows = session.scalars(select(Endorsement).where(Endorsement.batch_id == batch.id)).all()
        assert [r.signer for r in rows] == [ENDORSERS[0].address]
        kinds = session.scalars(
            select(BatchEvent.kind).where(BatchEvent.batch_id == batch.id)
        ).all()
        assert kinds.count("endorsed") == 1


def test_keyless_endorser_routes_are_rate_limited_per_address(chain, registry, tmp_path) -> None:
    """Strangers cannot make the keyless routes a CPU sink (each post recovers a signature):
    past the burst, 429 with Retry-After, whatever the route."""
    notary_key = tmp_path / "keys" / "notary.key"
    write_key(notary_key, registry.account)
    settings = chain.settings.model_copy(
        update={
            "data_dir": tmp_path / "notary",
            "rpc_url": chain.rpc_url,
            "registry": registry.address,
            "ipfs_api": f"http://127.0.0.1:{chain.settings.ipfs_port}",
            "database_url": None,
            "notary_key_file": notary_key,
            "consortium_requests_per_second": 0.01,
            "consortium_requests_burst": 4,
        }
    )
    app = create_app(settings, start_batcher=False)
    url, server, thread = serve_in_thread(app)
    try:
        answers = [httpx.get(url + "/v1/consortium/proposals", timeout=10) for _ in range(3)]
        answers.append(
            httpx.post(
                url + "/v1/consortium/reports",
                json={
                    "root": "0x" + "00" * 32,
                    "batch_time": 0,
                    "refusal": "",
                    "sent_at": int(time.time()),
                    "signature": "0x" + "11" * 65,
                },
                timeout=10,
            )
        )
        assert [a.status_code for a in answers[:3]] == [200, 200, 200]
        assert answers[3].status_code in (403, 422), answers[3].text  # spent, and refused
        for path in ("/v1/consortium/proposals", "/v1/consortium/endorsers"):
            limited = httpx.get(url + path, timeout=10)
            assert limited.status_code == 429, limited.text
            assert limited.json()["error"]["code"] == "rate_limited"
            assert int(limited.headers["retry-after"]) >= 1
        # deposits and the rest of the API are not limited by it
        assert httpx.get(url + "/v1/health", timeout=10).status_code == 200
    finally:
        server.should_exit = True
        thread.join(timeout=30)
