"""EvidenceRegistry on the real anvil: roles, write-once, events, views, log head, gas."""

from __future__ import annotations

import os
import random

import pytest
from eth_abi import encode
from eth_utils import keccak

from notary.chain.registry import (
    DEFAULT_ADMIN_ROLE,
    NOTARY_ROLE,
    RegistryWriter,
    connect,
)
from notary.chain.transactions import send
from notary.core.merkle import build_tree
from notary.errors import AlreadyAnchoredError, MissingRoleError, TransactionFailedError
from notary.ops.keys import dev_account, load_key

pytestmark = pytest.mark.devnet


@pytest.fixture(scope="module")
def notary(chain) -> RegistryWriter:
    account = load_key(chain.settings.notary_key_path, chain.settings)
    return RegistryWriter(connect(chain.rpc_url), chain.deployment.registry, account, chain.rpc_url)


@pytest.fixture(scope="module")
def admin(chain) -> RegistryWriter:
    account = load_key(chain.settings.admin_key_path, chain.settings)
    return RegistryWriter(connect(chain.rpc_url), chain.deployment.registry, account, chain.rpc_url)


def writer_for(chain, index: int) -> RegistryWriter:
    return RegistryWriter(
        connect(chain.rpc_url), chain.deployment.registry, dev_account(index), chain.rpc_url
    )


def test_roles_after_deploy(notary, admin) -> None:
    assert notary.has_role(NOTARY_ROLE, notary.account.address)
    assert notary.has_role(DEFAULT_ADMIN_ROLE, admin.account.address)
    assert not notary.has_role(NOTARY_ROLE, admin.account.address)
    assert not notary.has_role(DEFAULT_ADMIN_ROLE, notary.account.address)


def test_only_notaries_anchor(chain, admin) -> None:
    stranger = writer_for(chain, 5)
    count = stranger.anchor_count()
    with pytest.raises(MissingRoleError) as raised:
        stranger.anchor(os.urandom(32), 1)
    assert raised.value.account.lower() == stranger.account.address.lower()
    assert raised.value.role == NOTARY_ROLE
    with pytest.raises(MissingRoleError):
        admin.anchor(os.urandom(32), 1)  # the admin is not a notary
    assert stranger.anchor_count() == count


def test_role_changes_are_on_chain_and_take_effect(chain, admin) -> None:
    candidate = writer_for(chain, 6)
    receipt = admin.grant_role(NOTARY_ROLE, candidate.account.address)
    granted = admin.contract.events.RoleGranted().process_receipt(receipt)
    assert granted[0]["args"]["account"] == candidate.account.address
    candidate.anchor(os.urandom(32), 1)
    with pytest.raises(MissingRoleError):
        candidate.grant_role(NOTARY_ROLE, dev_account(7).address)  # notaries cannot grant
    data = admin.contract.encode_abi("revokeRole", args=[NOTARY_ROLE, candidate.account.address])
    revoked = send(admin.w3, admin.account, {"to": admin.address, "data": data}, admin.rpc_url)
    assert admin.contract.events.RoleRevoked().process_receipt(revoked)
    with pytest.raises(MissingRoleError):
        candidate.anchor(os.urandom(32), 1)


def test_write_once(notary) -> None:
    root = os.urandom(32)
    first = notary.anchor(root, 2, "manifest-a")
    with pytest.raises(AlreadyAnchoredError) as raised:
        notary.anchor(root, 3, "manifest-b")
    assert raised.value.root == root
    record = notary.anchor_of(root)
    assert (record.sequence, record.leaf_count, record.manifest) == (
        first.anchor.sequence,
        2,
        "manifest-a",
    )


@pytest.mark.parametrize(
    ("root", "count", "manifest", "error"),
    [
        (bytes(32), 1, "", "EvidenceRegistry__ZeroRoot"),
        (None, 0, "", "EvidenceRegistry__ZeroLeafCount"),
        (None, 1, "x" * 257, "EvidenceRegistry__ManifestTooLong(257, 256)"),
    ],
)
def test_bad_anchors_revert_with_named_errors(notary, root, count, manifest, error) -> None:
    before = notary.anchor_count()
    with pytest.raises(TransactionFailedError, match=error.replace("(", r"\(").replace(")", r"\)")):
        notary.anchor(root or os.urandom(32), count, manifest)
    assert notary.anchor_count() == before


def test_longest_manifest_is_accepted(notary) -> None:
    root = os.urandom(32)
    notary.anchor(root, 1, "m" * 256)
    assert notary.anchor_of(root).manifest == "m" * 256


def test_event_and_views_agree(notary) -> None:
    root = os.urandom(32)
    before = notary.anchor_count()
    result = notary.anchor(root, 42, "bafy-example")
    event = result.anchor
    record = notary.anchor_of(root)
    block_hash, block_time = notary.block(event.block_number)
    assert record == event
    assert event.sequence == before + 1 == notary.anchor_count()
    assert event.notary == notary.account.address
    assert event.timestamp == block_time and block_hash == result.block_hash
    assert notary.root_at(event.sequence) == root
    assert notary.log_head() == event.log_head


def test_views_return_zero_for_unknown_keys(notary) -> None:
    unknown = notary.anchor_of(os.urandom(32))
    assert (unknown.sequence, unknown.block_number, unknown.timestamp, unknown.leaf_count) == (
        0,
        0,
        0,
        0,
    )
    assert unknown.notary == "0x" + "00" * 20 and unknown.log_head == bytes(32)
    assert unknown.manifest == ""
    assert notary.root_at(0) == bytes(32)
    assert notary.root_at(notary.anchor_count() + 1) == bytes(32)
    assert notary.verify(os.urandom(32), [], os.urandom(32)) == 0


def test_log_head_folds_every_root_in_order(notary) -> None:
    notary.anchor(os.urandom(32), 1)
    logs = notary.contract.events.Anchored().get_logs(from_block=0)
    head = bytes(32)
    for sequence, log in enumerate(logs, start=1):
        assert log["args"]["sequence"] == sequence
        head = keccak(encode(["bytes32", "bytes32"], [head, log["args"]["root"]]))
        assert bytes(log["args"]["logHead"]) == head
        assert notary.root_at(sequence) == bytes(log["args"]["root"])
    assert len(logs) == notary.anchor_count()
    assert notary.log_head() == head


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 17, 1000])
def test_contract_verify_accepts_every_python_proof(notary, size: int) -> None:
    rng = random.Random(size)
    leaves = [rng.randbytes(32) for _ in range(size)]
    tree = build_tree(leaves)
    anchored = notary.anchor(tree.root, size)
    reader = notary.reader()
    for leaf in leaves:
        assert reader.verify(tree.root, tree.proof(leaf), leaf) == anchored.anchor.timestamp
    leaf = leaves[0]
    assert reader.verify(tree.root, tree.proof(leaf), os.urandom(32)) == 0
    if size > 1:
        bad = [bytes(32), *tree.proof(leaf)[1:]]
        assert reader.verify(tree.root, bad, leaf) == 0


def test_gas_per_anchor_does_not_depend_on_batch_size(notary, record_property) -> None:
    """One anchor costs the same for 1 or 4 million leaves: the batch never touches the chain."""
    gas = {}
    for count in (1, 10_000, 4_000_000):
        gas[count] = notary.anchor(os.urandom(32), count).gas_used
    record_property("gas_per_anchor", gas)
    print(f"gas per anchor by leaf count: {gas}")
    assert max(gas.values()) - min(gas.values()) <= 64  # calldata bytes of the count only
    assert gas[10_000] / 10_000 < 100  # under 100 gas per deposit at 10,000


@pytest.mark.parametrize("size", random.Random(2026).sample(range(6, 400), 4))
def test_contract_verify_accepts_random_size_trees(notary, size: int) -> None:
    rng = random.Random(size * 7919)
    leaves = [rng.randbytes(32) for _ in range(size)]
    tree = build_tree(leaves)
    anchored = notary.anchor(tree.root, size)
    for leaf in rng.sample(leaves, min(size, 40)):
        assert notary.verify(tree.root, tree.proof(leaf), leaf) == anchored.anchor.timestamp
