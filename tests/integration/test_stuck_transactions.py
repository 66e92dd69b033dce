"""A transaction that can never be mined as signed is noticed at once, not after the
receipt timeout, and the batcher signs its batch anew (CI once stalled 180 s after a
devnet kill -9: the anchoring process waited for a transaction the restarted chain had
never seen, behind a nonce it had lost).

The wait's timeout is cut to 20 s in these tests, so a wait that does not notice ends in
TransactionFailedError, not StuckTransactionError, and the tests fail instead of hanging;
the batcher's cycle gets no timeout at all and must end by itself within a minute.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import replace

import pytest
from eth_account import Account
from sqlalchemy import select

from notary.anchoring.batcher import Batcher, BatchPolicy
from notary.chain import transactions
from notary.chain.registry import RegistryWriter, connect
from notary.chain.transactions import broadcast, send, wait
from notary.deposit.request import deposit
from notary.errors import StuckTransactionError
from notary.issue.views import view
from notary.ops.devnet import rpc_call
from notary.ops.keys import load_key
from notary.store.db import transaction
from notary.store.models import Batch, BatchStatus, Evidence, Role
from notary.store.orgs import create_organization
from tests.integration.test_batcher import anchors_of, assert_all_verify, hashes
from tests.rpc_proxy import RpcProxy

pytestmark = pytest.mark.devnet


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transactions, "RECEIPT_TIMEOUT_SECONDS", 20)


@pytest.fixture
def stranger(chain):
    """A funded account of this test alone: its queued transactions disturb no other test."""
    account = Account.from_key(secrets.token_bytes(32))
    rpc_call(chain.rpc_url, "anvil_setBalance", [account.address, hex(10**20)])
    return account


def _transfer(w3, account, chain, nonce: int):
    signed = account.sign_transaction(
        {
            "to": "0x000000000000000000000000000000000000dEaD",
            "value": 1,
            "gas": 21_000,
            "gasPrice": w3.eth.gas_price * 2,
            "nonce": nonce,
            "chainId": w3.eth.chain_id,
        }
    )
    return bytes(signed.raw_transaction), bytes(signed.hash)


def test_a_transaction_behind_a_nonce_gap_is_stuck(chain, stranger) -> None:
    w3 = connect(chain.rpc_url)
    raw, tx_hash = _transfer(w3, stranger, chain, nonce=1)  # nonce 0 was never sent
    broadcast(w3, raw, chain.rpc_url)  # the node accepts it, and keeps it waiting
    try:
        with pytest.raises(StuckTransactionError, match="gap"):
            wait(w3, tx_hash, chain.rpc_url)
    finally:
        rpc_call(chain.rpc_url, "anvil_dropTransaction", ["0x" + tx_hash.hex()])


def test_a_transaction_the_node_no_longer_holds_is_stuck(chain, stranger) -> None:
    w3 = connect(chain.rpc_url)
    raw, tx_hash = _transfer(w3, stranger, chain, nonce=0)
    rpc_call(chain.rpc_url, "evm_setAutomine", [False])
    try:
        broadcast(w3, raw, chain.rpc_url)
        rpc_call(chain.rpc_url, "anvil_dropTransaction", ["0x" + tx_hash.hex()])
        with pytest.raises(StuckTransactionError, match="does not hold"):
            wait(w3, tx_hash, chain.rpc_url)
    finally:
        rpc_call(chain.rpc_url, "evm_setAutomine", [True])


def test_a_pending_transaction_is_not_stuck(chain, stranger) -> None:
    """Waiting while the node holds a minable transaction goes on (no false alarm)."""
    w3 = connect(chain.rpc_url)
    raw, tx_hash = _transfer(w3, stranger, chain, nonce=0)
    rpc_call(chain.rpc_url, "evm_setAutomine", [False])
    try:
        broadcast(w3, raw, chain.rpc_url)
        # mined only after several stuck checks have looked at it
        checks = int(3 * transactions.STUCK_CHECK_SECONDS / transactions.RECEIPT_POLL_SECONDS)
        real_sleep = transactions.time.sleep
        polls = 0

        def sleep_then_mine(seconds: float) -> None:
            nonlocal polls
            polls += 1
            if polls == checks:
                rpc_call(chain.rpc_url, "evm_mine")
            real_sleep(seconds)

        transactions.time.sleep = sleep_then_mine  # type: ignore[assignment]
        try:
            receipt = wait(w3, tx_hash, chain.rpc_url)
        finally:
            transactions.time.sleep = real_sleep  # type: ignore[assignment]
        assert receipt["status"] == 1 and polls >= checks
    finally:
        rpc_call(chain.rpc_url, "evm_setAutomine", [True])


def test_a_signed_batch_behind_a_lost_nonce_is_signed_anew_and_anchored_once(chain, store) -> None:
    org = create_organization(store, "studio-gap", "Studio Gap", Role.DEPOSITOR)
    account = load_key(chain.settings.notary_key_path, chain.settings)
    w3 = connect(chain.rpc_url)
    writer = RegistryWriter(w3, chain.deployment.registry, account, chain.rpc_url)
    batcher = Batcher(store, writer, BatchPolicy(max_leaves=1000, interval_seconds=0))
    ids = [o.public_id for o in deposit(store, org, hashes(3, "gap"))]

    # The notary sends a transaction (nonce N) and signs the batch's anchor (nonce N + 1),
    # which the process stores but dies before sending. The chain then loses the block with
    # nonce N (a devnet killed before saving it): the stored anchor now waits behind a gap.
    snapshot = rpc_call(chain.rpc_url, "evm_snapshot")
    send(w3, account, {"to": account.address, "value": 0}, chain.rpc_url)
    real_broadcast = writer.broadcast

    class Died(Exception):
        pass

    def die(raw: bytes) -> None:
        raise Died

    writer.broadcast = die  # type: ignore[method-assign]
    with pytest.raises(Died):
        batcher.run_once()
    writer.broadcast = real_broadcast  # type: ignore[method-assign]
    with transaction(store) as session:
        (batch,) = session.scalars(select(Batch).where(Batch.root.is_not(None))).all()[-1:]
        assert batch.status == BatchStatus.SIGNED.value
        stale_tx, stale_nonce = batch.tx_hash, batch.nonce
    assert rpc_call(chain.rpc_url, "evm_revert", [snapshot]) is True
    assert w3.eth.get_transaction_count(account.address, "pending") == stale_nonce - 1

    # without the stuck check this cycle would wait (here: for ever) for a receipt
    transactions.RECEIPT_TIMEOUT_SECONDS = 10**6  # type: ignore[misc]  (undone by monkeypatch)
    cycle = threading.Thread(target=batcher.run_once, daemon=True)
    try:
        cycle.start()
        cycle.join(timeout=60)
        assert not cycle.is_alive(), "the cycle still waits for a transaction that cannot be mined"
        with transaction(store) as session:
            batch = session.get(Batch, batch.id)
            assert batch is not None
            assert batch.status == BatchStatus.ANCHORED.value
            assert batch.tx_hash != stale_tx and batch.nonce == stale_nonce - 1
            root = batch.root
        assert anchors_of(chain, root) == 1
        assert_all_verify(chain, store, org, ids)
    finally:  # the stale bytes, if still queued, must not be mined into another test
        rpc_call(chain.rpc_url, "anvil_dropTransaction", ["0x" + stale_tx.hex()])


@pytest.mark.parametrize("count", [3, 1])
def test_a_root_the_registry_holds_without_an_event_is_batched_anew(chain, store, count) -> None:
    """anvil killed -9 can come back with a state that holds an anchored root but no block
    with its transaction (CI: "registry says the root is anchored but has no event", for
    ever). The root is spent in a write-once registry: the batch is formed anew without its
    newest deposit, which joins the next batch; a batch of one deposit gives it a new salt
    (another leaf, another root). Every deposit ends anchored and valid. The lost event is
    emulated by hiding it from the writer (find_anchor, receipts): the one fault here that
    cannot be caused on a consistent chain."""
    org = create_organization(store, f"studio-phantom{count}", "Studio Phantom", Role.DEPOSITOR)
    account = load_key(chain.settings.notary_key_path, chain.settings)
    w3 = connect(chain.rpc_url)
    writer = RegistryWriter(w3, chain.deployment.registry, account, chain.rpc_url)
    batcher = Batcher(store, writer, BatchPolicy(max_leaves=1000, interval_seconds=0))
    ids = [o.public_id for o in deposit(store, org, hashes(count, f"phantom{count}"))]
    with transaction(store) as session:
        salts = set(session.scalars(select(Evidence.salt).where(Evidence.public_id.in_(ids))))

    class Died(Exception):
        pass

    def die(raw: bytes) -> None:
        raise Died

    real_broadcast = writer.broadcast
    writer.broadcast = die  # type: ignore[method-assign]
    with pytest.raises(Died):
        batcher.run_once()
    writer.broadcast = real_broadcast  # type: ignore[method-assign]
    with transaction(store) as session:
        batch = session.scalars(select(Batch).order_by(Batch.id.desc())).first()
        assert batch is not None and batch.status == BatchStatus.SIGNED.value
        spent_root, raw = batch.root, batch.raw_tx
    assert raw is not None
    real_broadcast(raw)  # the root is anchored in the registry's state ...
    writer.find_anchor = lambda root: None  # type: ignore[method-assign]  # ... its event lost
    writer.receipt_or_none = lambda tx_hash: None  # type: ignore[method-assign]

    for _ in range(3):
        batcher.run_once(force=True)
    with transaction(store) as session:
        rows = session.execute(
            select(Evidence.public_id, Evidence.status, Batch.root)
            .join(Batch, Evidence.batch_id == Batch.id)
            .where(Evidence.public_id.in_(ids))
        ).all()
    assert len(rows) == count and {status for _, status, _ in rows} == {"anchored"}
    assert spent_root not in {root for _, _, root in rows}
    # the batch of 2 and the one taken out; or the one deposit, salted anew
    assert len({root for _, _, root in rows}) == min(count, 2)
    with transaction(store) as session:
        now = set(session.scalars(select(Evidence.salt).where(Evidence.public_id.in_(ids))))
    assert len(now - salts) == (1 if count == 1 else 0)
    assert anchors_of(chain, spent_root) == 1  # the spent anchor stays what it was
    assert_all_verify(chain, store, org, ids)
    kinds = [kind for _, kind, _ in view(store, org, ids[0]).history]
    assert "rebatched" in kinds


def test_the_batcher_finds_its_anchor_through_a_node_that_limits_log_ranges(chain, store) -> None:
    """find_anchor (the batcher's "was this root anchored by an earlier transaction of ours?")
    asks for the one block the registry names, so a node that refuses eth_getLogs over more
    than one block still answers it; a root the registry does not hold is None, and so is
    one whose block the node does not have."""
    org = create_organization(store, "studio-ranges", "Studio Ranges", Role.DEPOSITOR)
    account = load_key(chain.settings.notary_key_path, chain.settings)
    writer = RegistryWriter(connect(chain.rpc_url), chain.deployment.registry, account)
    ids = [o.public_id for o in deposit(store, org, hashes(2, "ranges"))]
    Batcher(store, writer, BatchPolicy(max_leaves=1000, interval_seconds=0)).run_once(force=True)
    with transaction(store) as session:
        root, tx_hash = session.execute(
            select(Batch.root, Batch.tx_hash)
            .join(Evidence, Evidence.batch_id == Batch.id)
            .where(Evidence.public_id == ids[0])
        ).one()
    assert tx_hash is not None
    with RpcProxy(chain.rpc_url) as proxy:
        proxy.max_log_blocks = 1
        limited = RegistryWriter(connect(proxy.url), chain.deployment.registry, account)
        found = limited.find_anchor(root)
        assert found is not None and found.tx_hash == tx_hash
        assert found.anchor.root == root
        assert limited.find_anchor(secrets.token_bytes(32)) is None
        assert proxy.log_queries and all(high == low for low, high in proxy.log_queries)
        # a registry whose state names a block the node does not have (anvil killed -9 can
        # restore state without its newest blocks): no event, so None, not the node's error
        ahead = replace(limited.anchor_of(root), block_number=limited.latest_block_number() + 5)
        limited.anchor_of = lambda _root: ahead  # type: ignore[method-assign]
        assert limited.find_anchor(root) is None
