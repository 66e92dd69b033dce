"""The OpenZeppelin "standard" Merkle tree, byte for byte.

Same construction as `@openzeppelin/merkle-tree` (StandardMerkleTree, sortLeaves on) and the
same proofs that OpenZeppelin's `MerkleProof.verify` accepts on chain:

- leaves are 32-byte leaf hashes (see notary.core.leaf), sorted ascending as bytes;
- the tree is an array of 2n-1 nodes; leaf i (in sorted order) sits at index 2n-2-i;
  node k has children 2k+1 and 2k+2; the root is node 0;
- an inner node is keccak256 of its two children concatenated in ascending order.

A proof is the list of sibling hashes from the leaf up to (not including) the root.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from notary.core.keccak import keccak256 as keccak
from notary.errors import NotFoundError, ValidationError

NODE_SIZE = 32


def hash_pair(a: bytes, b: bytes) -> bytes:
    """keccak256 of the two nodes concatenated smaller-first (commutative)."""
    return keccak(a + b) if a <= b else keccak(b + a)


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that `proof` leads to from `leaf`."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node


def verify_proof(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """True when `proof` proves `leaf` under `root`."""
    if len(root) != NODE_SIZE or len(leaf) != NODE_SIZE:
        return False
    if any(len(node) != NODE_SIZE for node in proof):
        return False
    return process_proof(leaf, proof) == root


@dataclass(frozen=True)
class MerkleTree:
    """A built tree: `nodes` in OpenZeppelin's array layout, root first."""

    nodes: tuple[bytes, ...]
    leaf_count: int
    positions: Mapping[bytes, int] = field(repr=False, compare=False)
    """Leaf hash -> index in `nodes` (the first one when a leaf repeats)."""

    @property
    def root(self) -> bytes:
        return self.nodes[0]

    @property
    def leaves(self) -> tuple[bytes, ...]:
        """Leaf hashes in tree order (ascending), as a batch manifest lists them."""
        return tuple(self.nodes[len(self.nodes) - 1 - i] for i in range(self.leaf_count))

    def tree_index(self, leaf: bytes) -> int:
        """Index of `leaf` in `nodes`; NotFoundError if the tree does not hold it."""
        try:
            return self.positions[leaf]
        except KeyError:
            raise NotFoundError(f"leaf 0x{leaf.hex()} is not in the tree") from None

    def proof(self, leaf: bytes) -> list[bytes]:
        """Sibling hashes from `leaf` up to the root."""
        index = self.tree_index(leaf)
        path: list[bytes] = []
        while index > 0:
            sibling = index + 1 if index % 2 == 1 else index - 1
            path.append(self.nodes[sibling])
            index = (index - 1) // 2
        return path


def build_tree(leaves: Sequence[bytes]) -> MerkleTree:
    """Build the standard tree over `leaves` (32-byte leaf hashes, any order)."""
    if not leaves:
        raise ValidationError("a Merkle tree needs at least one leaf")
    if any(len(leaf) != NODE_SIZE for leaf in leaves):
        raise ValidationError("Merkle leaves must be 32-byte hashes")
    ordered = sorted(leaves)
    size = 2 * len(ordered) - 1
    nodes: list[bytes] = [b""] * size
    for i, leaf in enumerate(ordered):
        nodes[size - 1 - i] = leaf
    for k in range(size - 1 - len(ordered), -1, -1):
        nodes[k] = hash_pair(nodes[2 * k + 1], nodes[2 * k + 2])
    positions: dict[bytes, int] = {}
    for i, leaf in enumerate(ordered):
        positions.setdefault(leaf, size - 1 - i)
    return MerkleTree(nodes=tuple(nodes), leaf_count=len(ordered), positions=positions)
