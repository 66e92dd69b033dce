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

import pytest
from eth_account import Account
from sqlalchemy import select

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
from notary.errors import ConflictError, ForbiddenError, ValidationError
from notary.ipfs.client import KuboRpc
from notary.issue.certificates import certificate
from notary.issue.trees import TreeCache
from notary.issue.views import view
from notary.ops.devnet import rpc_call
from notary.store.db import transaction
from notary.store.models import Batch, BatchEvent, BatchStatus, Endorsement
from notary.store.models import Role as OrgRole
from notary.store.orgs import create_organization
from notary.verify.certificate import Outcome, verify

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
