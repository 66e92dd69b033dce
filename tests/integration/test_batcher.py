"""Durable batching on the real devnet: exactly once across crashes and chain loss."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select

from notary.anchoring.batcher import Batcher, BatchPolicy
from notary.chain.registry import RegistryWriter, connect, connect_reader
from notary.core import certificate as cert_format
from notary.deposit.request import DepositRequest, deposit
from notary.errors import ConflictError, ValidationError
from notary.issue.certificates import certificate
from notary.issue.trees import TreeCache
from notary.issue.views import view
from notary.ops.devnet import rpc_call
from notary.ops.keys import load_key
from notary.store.db import transaction
from notary.store.models import Batch, BatchStatus, Evidence, Role
from notary.store.orgs import create_organization
from notary.verify.certificate import Outcome, verify

pytestmark = pytest.mark.devnet


class Crash(Exception):
    """Stands for the process dying at that exact point."""


@pytest.fixture
def org(store):
    return create_organization(store, "studio-7", "Studio 7 童装", Role.DEPOSITOR)


def new_batcher(chain, store) -> Batcher:
    account = load_key(chain.settings.notary_key_path, chain.settings)
    writer = RegistryWriter(
        connect(chain.rpc_url), chain.deployment.registry, account, chain.rpc_url
    )
    return Batcher(store, writer, BatchPolicy(max_leaves=1000, interval_seconds=0))


def hashes(n: int, salt: str = "") -> list[DepositRequest]:
    return [
        DepositRequest(
            sha256=hashlib.sha256(f"{salt}design {i}".encode()).digest(),
            sm3=None,
            metadata={"title": f"设计 {i}"},
            kind="hash",
        )
        for i in range(n)
    ]


def assert_all_verify(chain, store, org, ids: list[str]) -> list[dict]:
    docs = []
    for public_id in ids:
        text = cert_format.dumps(certificate(store, TreeCache(), org, public_id))
        verdict = verify(text, chain.rpc_url)
        assert verdict.outcome is Outcome.VALID, verdict
        docs.append(json.loads(text))
    return docs


def anchors_of(chain, root: bytes) -> int:
    """How many Anchored events the registry emitted for `root` (must be 0 or 1)."""
    reader = connect_reader(chain.rpc_url, chain.deployment.registry)
    return len(
        reader.contract.events.Anchored().get_logs(argument_filters={"root": root}, from_block=0)
    )


def test_deposits_are_anchored_and_certificates_verify(chain, store, org) -> None:
    outcomes = deposit(store, org, hashes(7))
    assert all(o.created for o in outcomes)
    assert {view(store, org, o.public_id).status for o in outcomes} == {"pending"}
    with pytest.raises(ConflictError):
        certificate(store, TreeCache(), org, outcomes[0].public_id)
    assert new_batcher(chain, store).run_once() == 1
    docs = assert_all_verify(chain, store, org, [o.public_id for o in outcomes])
    assert len({d["anchor"]["root"] for d in docs}) == 1
    assert docs[0]["leaf"]["values"][4] == "org:studio-7"
    history = [kind for _, kind, _ in view(store, org, outcomes[0].public_id).history]
    assert history == ["received", "batched", "anchored"]


def test_batches_respect_the_size_limit(chain, store, org) -> None:
    deposit(store, org, hashes(25, "size"))
    b = new_batcher(chain, store)
    b.policy = BatchPolicy(max_leaves=10, interval_seconds=3600)
    assert b.run_once() == 2  # two full batches are due at once; 5 leaves wait
    assert b.run_once(force=True) == 1
    with transaction(store) as session:
        sizes = sorted(session.scalars(select(Batch.leaf_count)).all())
    assert sizes == [5, 10, 10]


def test_idempotency(store, org) -> None:
    first = deposit(store, org, hashes(1))[0]
    again = deposit(store, org, hashes(1))[0]
    assert again.public_id == first.public_id and again.created is False
    keyed = DepositRequest(
        sha256=b"\x01" * 32, sm3=None, metadata={}, kind="hash", idempotency_key="req-1"
    )
    one = deposit(store, org, [keyed])[0]
    replay = deposit(store, org, [keyed])[0]
    assert (replay.public_id, replay.created) == (one.public_id, False)
    other = DepositRequest(
        sha256=b"\x02" * 32, sm3=None, metadata={}, kind="hash", idempotency_key="req-1"
    )
    with pytest.raises(ConflictError):
        deposit(store, org, [other])


def test_bulk_is_all_or_nothing(store, org) -> None:
    bad = [
        *hashes(3, "bulk"),
        DepositRequest(sha256=b"\x03" * 32, sm3=None, metadata={"Bad Key": "x"}, kind="hash"),
    ]
    with pytest.raises(ValidationError):
        deposit(store, org, bad)
    with transaction(store) as session:
        assert session.scalar(select(func.count(Evidence.id))) == 0


def test_another_tenant_sees_nothing(store, org) -> None:
    other = create_organization(store, "copycat-co", "Copycat", Role.DEPOSITOR)
    mine = deposit(store, org, hashes(1, "tenant"))[0]
    with pytest.raises(Exception, match="no evidence"):
        view(store, other, mine.public_id)
    theirs = deposit(store, other, hashes(1, "tenant"))[0]  # same content, other tenant
    assert theirs.created and theirs.public_id != mine.public_id


@pytest.mark.parametrize("point", ["before_sign", "before_broadcast", "before_receipt"])
def test_crash_at_each_step_anchors_exactly_once(chain, store, org, monkeypatch, point) -> None:
    ids = [o.public_id for o in deposit(store, org, hashes(5, point))]
    crashing = new_batcher(chain, store)
    if point == "before_sign":
        monkeypatch.setattr(
            crashing.writer, "sign_anchor", lambda *a: (_ for _ in ()).throw(Crash())
        )
    elif point == "before_broadcast":
        monkeypatch.setattr(crashing.writer, "broadcast", lambda *a: (_ for _ in ()).throw(Crash()))
    else:  # the transaction is sent and mined, the process dies before recording it
        real_wait = crashing.writer.wait_for_receipt

        def wait_then_crash(*args):
            real_wait(*args)
            raise Crash()

        monkeypatch.setattr(crashing.writer, "wait_for_receipt", wait_then_crash)
    with pytest.raises(Crash):
        crashing.run_once()
    monkeypatch.undo()
    with transaction(store) as session:
        (batch,) = session.scalars(select(Batch)).all()
        stored_tx = batch.tx_hash
        expected = {
            "before_sign": BatchStatus.BUILT,
            "before_broadcast": BatchStatus.SIGNED,
            "before_receipt": BatchStatus.SIGNED,
        }[point]
        assert batch.status == expected.value

    restarted = new_batcher(chain, store)  # a new process: only the database survived
    restarted.run_once()
    with transaction(store) as session:
        (batch,) = session.scalars(select(Batch)).all()
        assert batch.status == BatchStatus.ANCHORED.value
        if stored_tx is not None:
            assert batch.tx_hash == stored_tx  # the very transaction signed before the crash
        root = batch.root
    assert anchors_of(chain, root) == 1
    assert_all_verify(chain, store, org, ids)


def test_chain_losing_an_anchor_is_noticed_and_reanchored(chain, store, org) -> None:
    snapshot = rpc_call(chain.rpc_url, "evm_snapshot")
    ids = [o.public_id for o in deposit(store, org, hashes(4, "lost"))]
    b = new_batcher(chain, store)
    b.run_once()
    before = assert_all_verify(chain, store, org, ids)
    assert rpc_call(chain.rpc_url, "evm_revert", [snapshot]) is True  # the chain loses it
    rpc_call(chain.rpc_url, "evm_mine")  # and another block takes the anchor's height
    assert verify(json.dumps(before[0]), chain.rpc_url).outcome is Outcome.INVALID

    assert b.check_anchors() == 1
    b.run_once()
    after = assert_all_verify(chain, store, org, ids)
    assert after[0]["anchor"]["root"] == before[0]["anchor"]["root"]
    assert after[0]["anchor"]["block_hash"] != before[0]["anchor"]["block_hash"]
    assert anchors_of(chain, bytes.fromhex(after[0]["anchor"]["root"][2:])) == 1
    kinds = [kind for _, kind, _ in view(store, org, ids[0]).history]
    assert kinds == ["received", "batched", "anchored", "anchor_lost", "anchored"]
    assert b.check_anchors() == 0  # nothing else lost


class SteadyFlowBatcher(Batcher):
    """A batcher whose every batch is followed by a new deposit, as under a steady flow of
    deposits that arrive faster than a batch takes to anchor. It notes how many batches
    were final each time it formed the next one."""

    def __init__(self, *args, org, limit: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.org, self.limit, self.formed = org, limit, 0
        self.final_seen: list[int] = []

    def _form(self, *, force: bool = False):
        with transaction(self.factory) as session:
            self.final_seen.append(
                session.scalar(
                    select(func.count(Batch.id)).where(Batch.status == BatchStatus.ANCHORED.value)
                )
            )
        if self.formed < self.limit:  # bounded, so a cycle that never ends fails, not hangs
            self.formed += 1
            deposit(self.factory, self.org, hashes(1, salt=f"flow {self.formed}"))
        return super()._form(force=force)


def test_batches_become_final_under_a_steady_flow(chain, store, org, monkeypatch) -> None:
    """A cycle that keeps finding a new batch to form confirms each batch it anchored as it
    goes (the devnet's blocks are final at once) and ends after MAX_CYCLE_SECONDS, instead
    of leaving every deposit unconfirmed for as long as the flow lasts."""
    monkeypatch.setattr("notary.anchoring.batcher.MAX_CYCLE_SECONDS", 1.0)
    plain = new_batcher(chain, store)
    flowing = SteadyFlowBatcher(store, plain.writer, plain.policy, org=org, limit=500)
    anchored = flowing.run_once()
    assert 2 <= anchored < 500  # the cycle ended while deposits kept coming
    # when the n-th batch was formed, the n-1 batches before it were final already
    assert flowing.final_seen[1:anchored] == list(range(1, anchored)), flowing.final_seen
