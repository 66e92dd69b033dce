"""Leaf encoding and canonical metadata against vectors computed independently in JavaScript."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notary.core.leaf import (
    EMPTY_METADATA_DIGEST,
    LEAF_ENCODING,
    MAX_METADATA_BYTES,
    Leaf,
    LeafHasher,
    canonical_metadata,
    metadata_digest,
    parse_hex32,
    sm3_leaf_value,
    validate_depositor,
    validate_metadata,
    validated_metadata_digest,
)
from notary.errors import ValidationError
from tests.conftest import VECTORS

CASES = json.loads((VECTORS / "leaf-v1.json").read_text("utf-8"))["cases"]


def _leaf(case: dict[str, object]) -> Leaf:
    return Leaf(
        sha256=parse_hex32("", case["sha256"]),
        sm3=parse_hex32("", case["sm3"]),
        metadata_digest=metadata_digest(case["metadata"]),  # type: ignore[arg-type]
        depositor=case["depositor"],
        salt=parse_hex32("", case["salt"]),
    )  # type: ignore[arg-type]


def test_encoding_is_the_published_one() -> None:
    published = json.loads((VECTORS / "leaf-v1.json").read_text("utf-8"))["encoding"]
    assert list(LEAF_ENCODING) == published


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["depositor"])
def test_canonical_metadata_matches_vectors(case: dict[str, object]) -> None:
    assert canonical_metadata(case["metadata"]).decode("utf-8") == case["canonical"]  # type: ignore[arg-type]
    assert "0x" + metadata_digest(case["metadata"]).hex() == case["metadata_digest"]  # type: ignore[arg-type]
    validated = validate_metadata(case["metadata"])  # type: ignore[arg-type]
    assert "0x" + validated_metadata_digest(validated).hex() == case["metadata_digest"]


def test_empty_metadata_digest_is_the_digest_of_the_empty_object() -> None:
    assert EMPTY_METADATA_DIGEST == hashlib.sha256(b"{}").digest() == metadata_digest({})
    assert validated_metadata_digest({}) == EMPTY_METADATA_DIGEST
    with pytest.raises(ValidationError):
        metadata_digest([])  # type: ignore[arg-type]  # still validated, even when empty


def test_sm3_slot_is_the_digest_or_zeros() -> None:
    assert sm3_leaf_value(None) == bytes(32)
    assert sm3_leaf_value(b"\x07" * 32) == b"\x07" * 32


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["depositor"])
def test_leaf_hash_matches_openzeppelin(case: dict[str, object]) -> None:
    leaf = _leaf(case)
    assert leaf.json_values() == case["values"]
    assert "0x" + leaf.hash().hex() == case["leaf_hash"]
    assert Leaf.from_json_values(case["values"]) == leaf  # type: ignore[arg-type]


def test_every_leaf_field_changes_the_hash() -> None:
    base = _leaf(CASES[0])
    variants = [
        Leaf(
            sha256=bytes(32),
            sm3=base.sm3,
            metadata_digest=base.metadata_digest,
            depositor=base.depositor,
            salt=base.salt,
        ),
        Leaf(
            sha256=base.sha256,
            sm3=bytes(32),
            metadata_digest=base.metadata_digest,
            depositor=base.depositor,
            salt=base.salt,
        ),
        Leaf(
            sha256=base.sha256,
            sm3=base.sm3,
            metadata_digest=bytes(32),
            depositor=base.depositor,
            salt=base.salt,
        ),
        Leaf(
            sha256=base.sha256,
            sm3=base.sm3,
            metadata_digest=base.metadata_digest,
            depositor=base.depositor + "x",
            salt=base.salt,
        ),
        Leaf(
            sha256=base.sha256,
            sm3=base.sm3,
            metadata_digest=base.metadata_digest,
            depositor=base.depositor,
            salt=bytes(32),
        ),
    ]
    hashes = {v.hash() for v in variants} | {base.hash()}
    assert len(hashes) == len(variants) + 1


@pytest.mark.parametrize(
    "bad",
    [
        {"Name": "x"},  # upper-case key
        {"1name": "x"},  # key starts with a digit
        {"name": 1.5},  # float
        {"name": True},  # boolean
        {"name": None},  # null
        {"name": {"nested": "x"}},  # object
        {"size": -1},  # negative
        {"size": 2**53},  # beyond exact JSON integers
        {"tags": ["ok", 3]},  # list of non-strings
        {"tags": ["t"] * 65},  # too many items
        {"name": "x" * 4097},  # too long
        {"name": "bell\x07"},  # control character
        {"name": "cr\r"},  # carriage return is not allowed either
        {"name": "\udc80"},  # lone surrogate (undecodable file name)
        {f"k{i}": "x" * 4000 for i in range(5)},  # canonical form over MAX_METADATA_BYTES
    ],
)
def test_bad_metadata_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        validate_metadata(bad)


@pytest.mark.parametrize("bad", ["", " acme", "acme ", "a\nb", "x" * 257, 5])
def test_bad_depositor_is_refused(bad: object) -> None:
    with pytest.raises(ValidationError):
        validate_depositor(bad)  # type: ignore[arg-type]


def test_leaf_refuses_wrong_sizes_and_schemes() -> None:
    with pytest.raises(ValidationError):
        Leaf(
            sha256=b"\x01" * 31,
            sm3=bytes(32),
            metadata_digest=bytes(32),
            depositor="a",
            salt=bytes(32),
        )
    with pytest.raises(ValidationError):
        Leaf.from_json_values(["notary.evidence.v2", *CASES[0]["values"][1:]])
    with pytest.raises(ValidationError):
        Leaf.from_json_values(CASES[0]["values"][:5])


_text = st.text(
    st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\r" + "".join(chr(c) for c in range(0x20) if c not in (9, 10)),
    ),
    max_size=40,
)
_metadata = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
    st.one_of(_text, st.integers(0, 2**53 - 1), st.lists(_text, max_size=4)),
    max_size=6,
)


@given(_metadata)
def test_canonical_form_round_trips_and_is_order_independent(metadata: dict[str, object]) -> None:
    canonical = canonical_metadata(metadata)
    assert len(canonical) <= MAX_METADATA_BYTES
    assert json.loads(canonical) == metadata
    reordered = dict(reversed(list(metadata.items())))
    assert canonical_metadata(reordered) == canonical
    assert metadata_digest(metadata) == hashlib.sha256(canonical).digest()
    assert validated_metadata_digest(validate_metadata(metadata)) == metadata_digest(metadata)
    assert b"\\u" not in canonical.replace(b"\\\\", b"")  # non-ASCII is written as UTF-8


@given(
    st.dictionaries(
        st.text(max_size=5),
        st.one_of(st.none(), st.floats(), st.booleans(), st.text(max_size=5)),
        max_size=4,
    )
)
def test_validation_accepts_or_refuses_cleanly(metadata: dict[str, object]) -> None:
    try:
        clean = validate_metadata(metadata)
    except ValidationError:
        return
    assert json.loads(canonical_metadata(clean)) == clean


@given(
    st.text(max_size=300).filter(lambda t: t == t.strip() and t and t.isprintable()),
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=32, max_size=32),
)
def test_fast_encoder_equals_eth_abi(depositor: str, sha: bytes, salt: bytes) -> None:
    from notary.core.leaf import abi_encode_reference

    leaf = Leaf(sha256=sha, sm3=salt, metadata_digest=sha[::-1], depositor=depositor, salt=salt)
    assert leaf.abi_encoded() == abi_encode_reference(leaf)
    assert LeafHasher(depositor).encode(sha, salt, sha[::-1], salt) == abi_encode_reference(leaf)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["depositor"])
def test_leaf_hasher_matches_openzeppelin_vectors(case: dict[str, object]) -> None:
    leaf = _leaf(case)
    hasher = LeafHasher(leaf.depositor)
    got = hasher.hash(leaf.sha256, leaf.sm3, leaf.metadata_digest, leaf.salt)
    assert "0x" + got.hex() == case["leaf_hash"]


@given(
    st.text(max_size=300).filter(lambda t: t == t.strip() and t and t.isprintable()),
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=32, max_size=32),
)
def test_leaf_hasher_equals_leaf_hash(depositor: str, sha: bytes, sm3: bytes, salt: bytes) -> None:
    leaf = Leaf(sha256=sha, sm3=sm3, metadata_digest=salt[::-1], depositor=depositor, salt=salt)
    assert LeafHasher(depositor).hash(sha, sm3, salt[::-1], salt) == leaf.hash()


def test_leaf_hasher_refuses_wrong_sizes() -> None:
    hasher = LeafHasher("org:studio")
    with pytest.raises(ValidationError):
        hasher.hash(bytes(31), bytes(32), bytes(32), bytes(32))
    with pytest.raises(ValidationError):
        LeafHasher(" padded ")
