"""Batch manifest v1: what anyone needs to rebuild a batch tree without our database.

Canonical JSON (keys sorted, no insignificant whitespace, UTF-8):

    {"format": "evidence-notary-batch-manifest", "version": 1,
     "tree": "openzeppelin-standard-v1", "leaf_scheme": "notary.evidence.v1",
     "leaf_encoding": [...LEAF_ENCODING...], "leaf_count": n,
     "leaves": ["0x<leaf hash>", ...], "root": "0x<root>"}

`leaves` are the leaf hashes in tree order (ascending). Only hashes are published: leaf
values carry a random salt, so a manifest reveals nothing about the deposits. Its CID
(unixfs-v1-2025, notary.core.unixfs) is the anchor's manifest reference on chain.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from notary.core.leaf import LEAF_ENCODING, LEAF_SCHEME, parse_hex32
from notary.core.merkle import build_tree
from notary.core.unixfs import UnixfsHasher
from notary.errors import ValidationError

FORMAT: Final = "evidence-notary-batch-manifest"
VERSION: Final = 1
TREE: Final = "openzeppelin-standard-v1"
MAX_MANIFEST_BYTES: Final = 512 * 1024 * 1024
"""Largest manifest read back (69 bytes a leaf: about 7.8 million leaves)."""


@dataclass(frozen=True)
class Manifest:
    root: bytes
    leaves: tuple[bytes, ...]


def encode(leaves: Sequence[bytes]) -> tuple[bytes, bytes]:
    """(manifest bytes, root) for a batch with these leaf hashes (any order)."""
    tree = build_tree(list(leaves))
    return encode_known(tree.leaves, tree.root), tree.root


def encode_known(sorted_leaves: Sequence[bytes], root: bytes) -> bytes:
    """Manifest bytes when the tree order (ascending) and the root are already known."""
    document = {
        "format": FORMAT,
        "version": VERSION,
        "tree": TREE,
        "leaf_scheme": LEAF_SCHEME,
        "leaf_encoding": list(LEAF_ENCODING),
        "leaf_count": len(sorted_leaves),
        "leaves": ["0x" + leaf.hex() for leaf in sorted_leaves],
        "root": "0x" + root.hex(),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def cid_of(data: bytes) -> str:
    """The unixfs-v1-2025 CID of manifest bytes."""
    hasher = UnixfsHasher()
    hasher.update(data)
    return hasher.cid()


def decode(data: bytes) -> Manifest:
    """Parse a manifest; ValidationError unless it is a well-formed v1 manifest."""
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"manifest is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise ValidationError("not a version 1 batch manifest")
    if doc.get("tree") != TREE or doc.get("leaf_encoding") != list(LEAF_ENCODING):
        raise ValidationError("manifest names another tree or leaf encoding")
    leaves = doc.get("leaves")
    if not isinstance(leaves, list) or doc.get("leaf_count") != len(leaves) or not leaves:
        raise ValidationError("manifest leaf list and leaf_count disagree")
    return Manifest(
        parse_hex32("root", doc.get("root")), tuple(parse_hex32("leaf", leaf) for leaf in leaves)
    )
