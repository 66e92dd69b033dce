"""The evidence leaf: what one Merkle leaf commits to, and its exact encoding.

Scheme "notary.evidence.v1". The leaf values are, in this order and with these Solidity
ABI types (LEAF_ENCODING):

    string   scheme           "notary.evidence.v1"
    bytes32  sha256           SHA-256 of the content
    bytes32  sm3              SM3 of the content, 32 zero bytes when none was given (sm3_leaf_value)
    bytes32  metadata_digest  SHA-256 of the canonical metadata JSON (metadata_digest)
    string   depositor        identity of the depositor (organization id)
    bytes32  salt             32 random bytes, so a published leaf hash reveals nothing

leaf hash = keccak256(keccak256(abi.encode(values))), OpenZeppelin's standard leaf.

Canonical metadata: a JSON object whose keys match METADATA_KEY_PATTERN and whose values
are strings, integers in [0, 2**53) or lists of strings; serialized with keys sorted,
no insignificant whitespace, non-ASCII characters written as UTF-8 (not \\u escapes):
Python's json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, TypeAlias

from eth_abi.abi import encode as abi_encode

from notary.core.keccak import keccak256 as keccak
from notary.errors import ValidationError

LEAF_SCHEME: Final = "notary.evidence.v1"
LEAF_ENCODING: Final = ("string", "bytes32", "bytes32", "bytes32", "string", "bytes32")
ZERO32: Final = bytes(32)

METADATA_KEY_PATTERN: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_METADATA_BYTES: Final = 16 * 1024
"""Largest canonical metadata, in UTF-8 bytes."""
MAX_TEXT_LENGTH: Final = 4096
"""Longest metadata string, in characters (a file name, a title, a description)."""
MAX_LIST_LENGTH: Final = 64
"""Most strings in a list value (tags)."""
MAX_DEPOSITOR_LENGTH: Final = 256
MAX_SAFE_INTEGER: Final = 2**53 - 1
"""Largest integer every JSON reader keeps exact."""

MetadataValue: TypeAlias = str | int | list[str]
Metadata: TypeAlias = dict[str, MetadataValue]


def _check_text(where: str, value: str) -> None:
    if len(value) > MAX_TEXT_LENGTH:
        raise ValidationError(f"{where} is longer than {MAX_TEXT_LENGTH} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(f"{where} is not valid Unicode text") from exc
    if any(ord(ch) < 0x20 and ch not in "\t\n" for ch in value):
        raise ValidationError(f"{where} contains control characters")


def validate_metadata(metadata: Mapping[str, object]) -> Metadata:
    """Check types and limits; return a plain dict copy. Raises ValidationError."""
    return _validated(metadata)[0]


def _validated(metadata: Mapping[str, object]) -> tuple[Metadata, bytes]:
    """The validated copy and its canonical JSON (computed once, for the size limit)."""
    if not isinstance(metadata, Mapping):
        raise ValidationError("metadata must be a JSON object")
    clean: Metadata = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not METADATA_KEY_PATTERN.fullmatch(key):
            raise ValidationError(f"metadata key {key!r} must match {METADATA_KEY_PATTERN.pattern}")
        if isinstance(value, bool):
            raise ValidationError(f"metadata {key}: booleans are not allowed")
        if isinstance(value, str):
            _check_text(f"metadata {key}", value)
            clean[key] = value
        elif isinstance(value, int):
            if not 0 <= value <= MAX_SAFE_INTEGER:
                raise ValidationError(f"metadata {key}: integers must be in [0, 2**53)")
            clean[key] = value
        elif isinstance(value, list):
            if len(value) > MAX_LIST_LENGTH:
                raise ValidationError(f"metadata {key}: at most {MAX_LIST_LENGTH} items")
            for item in value:
                if not isinstance(item, str):
                    raise ValidationError(f"metadata {key}: list items must be strings")
                _check_text(f"metadata {key}", item)
            clean[key] = list(value)
        else:
            raise ValidationError(
                f"metadata {key}: values must be strings, integers or lists of strings"
            )
    canonical = canonical_json(clean)
    if len(canonical) > MAX_METADATA_BYTES:
        raise ValidationError(f"metadata is larger than {MAX_METADATA_BYTES} bytes")
    return clean, canonical


def canonical_json(metadata: Mapping[str, MetadataValue]) -> bytes:
    """Canonical UTF-8 JSON bytes of already validated metadata."""
    if not metadata:
        return b"{}"  # bare hash deposits: most of a bulk request
    return json.dumps(metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def canonical_metadata(metadata: Mapping[str, object]) -> bytes:
    """Validate `metadata` and return its canonical JSON bytes."""
    return _validated(metadata)[1]


def _digest(canonical: bytes) -> bytes:
    """The metadata digest of canonical metadata JSON: its SHA-256."""
    return hashlib.sha256(canonical).digest()


EMPTY_METADATA_DIGEST: Final = _digest(canonical_json({}))
"""The digest of empty metadata (bare hash deposits: most of a bulk request)."""


def metadata_digest(metadata: Mapping[str, object]) -> bytes:
    """SHA-256 of the canonical metadata JSON; ValidationError if `metadata` is not valid."""
    return _digest(canonical_metadata(metadata))


def validated_metadata_digest(metadata: Mapping[str, MetadataValue]) -> bytes:
    """metadata_digest of metadata that validate_metadata already returned, not checked again.

    For deposits: a request is validated once, before anything is written, and a bulk
    request then hashes up to 10,000 leaves (validating again took 2 to 3 times as long).
    """
    if not metadata:
        return EMPTY_METADATA_DIGEST
    return _digest(canonical_json(metadata))


def validate_depositor(depositor: str) -> str:
    """A depositor id: 1..MAX_DEPOSITOR_LENGTH printable characters, no surrounding spaces."""
    if not isinstance(depositor, str) or not depositor or depositor != depositor.strip():
        raise ValidationError("depositor must be a non-empty string without surrounding spaces")
    if len(depositor) > MAX_DEPOSITOR_LENGTH or not depositor.isprintable():
        raise ValidationError(f"depositor must be at most {MAX_DEPOSITOR_LENGTH} printable chars")
    return depositor


def sm3_leaf_value(sm3: bytes | None) -> bytes:
    """The leaf's SM3 slot: the digest, or 32 zero bytes when none was given."""
    return sm3 if sm3 is not None else ZERO32


def _check32(name: str, value: bytes) -> bytes:
    if not isinstance(value, bytes) or len(value) != 32:
        raise ValidationError(f"{name} must be 32 bytes")
    return value


@dataclass(frozen=True)
class Leaf:
    """The values of one evidence leaf (scheme notary.evidence.v1)."""

    sha256: bytes
    sm3: bytes
    metadata_digest: bytes
    depositor: str
    salt: bytes
    scheme: str = LEAF_SCHEME

    def __post_init__(self) -> None:
        if self.scheme != LEAF_SCHEME:
            raise ValidationError(f"unknown leaf scheme {self.scheme!r}")
        for name in ("sha256", "sm3", "metadata_digest", "salt"):
            _check32(name, getattr(self, name))
        validate_depositor(self.depositor)

    def abi_values(self) -> tuple[str, bytes, bytes, bytes, str, bytes]:
        """The values in LEAF_ENCODING order."""
        return (self.scheme, self.sha256, self.sm3, self.metadata_digest, self.depositor, self.salt)

    def json_values(self) -> list[str]:
        """The values as written in certificates and read by @openzeppelin/merkle-tree."""
        return [
            self.scheme,
            "0x" + self.sha256.hex(),
            "0x" + self.sm3.hex(),
            "0x" + self.metadata_digest.hex(),
            self.depositor,
            "0x" + self.salt.hex(),
        ]

    def abi_encoded(self) -> bytes:
        """abi.encode(values) for LEAF_ENCODING (written out in LeafHasher.encode)."""
        return LeafHasher(self.depositor).encode(
            self.sha256, self.sm3, self.metadata_digest, self.salt
        )

    def hash(self) -> bytes:
        """keccak256(keccak256(abi.encode(values))): the Merkle leaf."""
        return keccak(keccak(self.abi_encoded()))

    @classmethod
    def from_json_values(cls, values: list[object]) -> Leaf:
        """Parse the certificate form; ValidationError if it is not a v1 leaf."""
        if not isinstance(values, list) or len(values) != len(LEAF_ENCODING):
            raise ValidationError(f"a leaf has exactly {len(LEAF_ENCODING)} values")
        scheme, sha256, sm3, digest, depositor, salt = values
        if not isinstance(scheme, str) or not isinstance(depositor, str):
            raise ValidationError("leaf scheme and depositor must be strings")
        return cls(
            scheme=scheme,
            sha256=parse_hex32("leaf sha256", sha256),
            sm3=parse_hex32("leaf sm3", sm3),
            metadata_digest=parse_hex32("leaf metadata digest", digest),
            depositor=depositor,
            salt=parse_hex32("leaf salt", salt),
        )


class LeafHasher:
    """The leaf encoding, written out for speed, for one depositor's leaves.

    abi.encode(values) for LEAF_ENCODING is six head words (the two strings as offsets),
    then each string as its length and its UTF-8 padded to a multiple of 32 bytes. The
    parts that do not change between one depositor's leaves (scheme, depositor, offsets)
    are encoded once: a bulk deposit hashes 10,000 leaves. Leaf.abi_encoded is this
    encoding; a property test checks it against eth_abi (abi_encode_reference).
    """

    def __init__(self, depositor: str) -> None:
        validate_depositor(depositor)
        scheme, encoded = LEAF_SCHEME.encode("utf-8"), depositor.encode("utf-8")
        scheme_tail = _word(len(scheme)) + _pad(scheme)
        self.depositor = depositor
        self._first_offset = _word(6 * 32)
        self._second_offset = _word(6 * 32 + len(scheme_tail))
        self._tail = scheme_tail + _word(len(encoded)) + _pad(encoded)

    def encode(self, sha256: bytes, sm3: bytes, metadata_digest: bytes, salt: bytes) -> bytes:
        """abi.encode(values) of the leaf of this depositor with these values."""
        if not len(sha256) == len(sm3) == len(metadata_digest) == len(salt) == 32:
            raise ValidationError("leaf hashes and salt must be 32 bytes")
        return b"".join(
            (
                self._first_offset,
                sha256,
                sm3,
                metadata_digest,
                self._second_offset,
                salt,
                self._tail,
            )
        )

    def hash(self, sha256: bytes, sm3: bytes, metadata_digest: bytes, salt: bytes) -> bytes:
        """keccak256(keccak256(abi.encode(values))): the Merkle leaf."""
        return keccak(keccak(self.encode(sha256, sm3, metadata_digest, salt)))


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _pad(data: bytes) -> bytes:
    return data + bytes(-len(data) % 32)


def abi_encode_reference(leaf: Leaf) -> bytes:
    """The generic encoder (eth_abi), the reference that Leaf.abi_encoded must equal."""
    return abi_encode(list(LEAF_ENCODING), list(leaf.abi_values()))


_HEX32 = re.compile(r"(0x)?[0-9a-fA-F]{64}")


def parse_hex32(name: str, value: object) -> bytes:
    """Parse 64 hex digits (optionally 0x-prefixed) into 32 bytes."""
    if not isinstance(value, str) or not _HEX32.fullmatch(value):
        raise ValidationError(f"{name} must be 64 hex digits")
    return bytes.fromhex(value.removeprefix("0x"))
