"""The standard Merkle tree: roots and proofs agree with @openzeppelin/merkle-tree."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notary.core.leaf import LEAF_ENCODING, Leaf
from notary.core.merkle import build_tree, hash_pair, process_proof, verify_proof
from notary.errors import NotFoundError, ValidationError
from tests.conftest import oz_tree

SIZES = [1, 2, 3, 4, 5, 17, 1000]


def random_leaves(count: int, seed: int) -> list[Leaf]:
    rng = random.Random(seed)
    return [
        Leaf(
            sha256=rng.randbytes(32),
            sm3=rng.randbytes(32),
            metadata_digest=rng.randbytes(32),
            depositor=f"studio-{rng.randrange(10)}-童装",
            salt=rng.randbytes(32),
        )
        for _ in range(count)
    ]


def assert_agrees_with_openzeppelin(leaves: list[Leaf]) -> None:
    oz = oz_tree(list(LEAF_ENCODING), [leaf.json_values() for leaf in leaves])
    tree = build_tree([leaf.hash() for leaf in leaves])
    assert oz["verified"] is True
    assert oz["root"] == "0x" + tree.root.hex()
    assert oz["leafHashes"] == ["0x" + leaf.hash().hex() for leaf in leaves]
    for leaf, proof in zip(leaves, oz["proofs"], strict=True):  # type: ignore[call-overload]
        ours = tree.proof(leaf.hash())
        assert ["0x" + p.hex() for p in ours] == proof
        assert verify_proof(tree.root, leaf.hash(), ours)


@pytest.mark.node
@pytest.mark.parametrize("size", SIZES)
def test_sizes_agree_with_openzeppelin(size: int) -> None:
    assert_agrees_with_openzeppelin(random_leaves(size, seed=size))


@pytest.mark.node
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=1, max_value=300), st.integers(min_value=0, max_value=2**32))
def test_random_trees_agree_with_openzeppelin(size: int, seed: int) -> None:
    assert_agrees_with_openzeppelin(random_leaves(size, seed))


def test_single_leaf_tree_is_its_leaf() -> None:
    leaf = os.urandom(32)
    tree = build_tree([leaf])
    assert tree.root == leaf
    assert tree.proof(leaf) == []


def test_two_leaf_root_is_the_sorted_pair_hash() -> None:
    a, b = b"\x01" * 32, b"\x02" * 32
    from eth_utils import keccak

    assert build_tree([b, a]).root == keccak(a + b) == hash_pair(b, a)


def test_tree_lists_leaves_in_sorted_order() -> None:
    leaves = [os.urandom(32) for _ in range(9)]
    assert build_tree(leaves).leaves == tuple(sorted(leaves))


@given(
    st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=64, unique=True), st.data()
)
def test_any_tampering_breaks_the_proof(leaves: list[bytes], data: st.DataObject) -> None:
    tree = build_tree(leaves)
    leaf = data.draw(st.sampled_from(leaves))
    proof = tree.proof(leaf)
    assert process_proof(leaf, proof) == tree.root
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        bad = bytearray(proof[i])
        bad[bit // 8] ^= 1 << (bit % 8)
        tampered = [*proof[:i], bytes(bad), *proof[i + 1 :]]
        assert not verify_proof(tree.root, leaf, tampered)
    other = bytes(b ^ 0xFF for b in leaf)
    if other not in leaves:
        assert not verify_proof(tree.root, other, proof)


def test_bad_inputs() -> None:
    with pytest.raises(ValidationError):
        build_tree([])
    with pytest.raises(ValidationError):
        build_tree([b"short"])
    with pytest.raises(NotFoundError):
        build_tree([b"\x01" * 32]).proof(b"\x02" * 32)
    assert not verify_proof(b"\x01" * 32, b"\x01" * 31, [])
    assert not verify_proof(b"\x01" * 32, b"\x01" * 32, [b"\x00"])
