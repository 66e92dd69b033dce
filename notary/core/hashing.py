"""SHA-256 and SM3 of a byte stream, and with them its IPFS CID, computed in one pass.

SM3 (GB/T 32905-2016) is what Chinese courts and platforms expect beside SHA-256. Both
come from hashlib (OpenSSL); the stream is read once, in CHUNK_SIZE pieces, so memory use
does not grow with the file. ContentHasher adds the CID (notary.core.unixfs) to the same
pass: what a file deposit records, whether it arrives over HTTP or from `notary stamp`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import BinaryIO, Final, NewType

from notary.core.unixfs import UnixfsHasher
from notary.errors import ConfigError

CHUNK_SIZE = 1024 * 1024
"""Bytes read per step: large enough to amortize calls, small enough to bound memory."""

Sha256 = NewType("Sha256", bytes)
Sm3 = NewType("Sm3", bytes)


@dataclass(frozen=True)
class ContentDigest:
    """The content hashes and size of one file."""

    sha256: Sha256
    sm3: Sm3
    size: int


def _new_sm3() -> hashlib._Hash:
    try:
        return hashlib.new("sm3")
    except ValueError as exc:  # OpenSSL built without SM3
        raise ConfigError("this Python's OpenSSL has no SM3; install an OpenSSL with SM3") from exc


class StreamHasher:
    """Feed chunks with update(); digest() gives SHA-256, SM3 and size of all chunks fed."""

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self._sm3 = _new_sm3()
        self._size = 0

    def update(self, chunk: bytes | memoryview) -> None:
        """Add the next piece of the content."""
        self._sha256.update(chunk)
        self._sm3.update(chunk)
        self._size += len(chunk)

    def digest(self) -> ContentDigest:
        """The hashes of everything fed so far."""
        return ContentDigest(
            sha256=Sha256(self._sha256.digest()), sm3=Sm3(self._sm3.digest()), size=self._size
        )


def hash_stream(stream: BinaryIO, chunk_size: int = CHUNK_SIZE) -> ContentDigest:
    """Read `stream` to its end once and return its SHA-256, SM3 and size."""
    hasher = StreamHasher()
    while chunk := stream.read(chunk_size):
        hasher.update(chunk)
    return hasher.digest()


@dataclass(frozen=True)
class ContentHash:
    """Everything one pass over a file's bytes gives: its hashes and size, and its CID under
    the unixfs-v1-2025 profile."""

    digest: ContentDigest
    cid: str


class ContentHasher:
    """Feed chunks with update(); result() gives the SHA-256, SM3, size and CID of all
    chunks fed. Each chunk goes to every hash as it is (a memoryview is not copied)."""

    def __init__(self) -> None:
        self._hashes = StreamHasher()
        self._cids = UnixfsHasher()

    def update(self, chunk: bytes | memoryview) -> None:
        """Add the next piece of the content."""
        self._hashes.update(chunk)
        self._cids.update(chunk)

    def result(self) -> ContentHash:
        """The hashes and CID of everything fed so far."""
        return ContentHash(self._hashes.digest(), self._cids.cid())


def hash_content(stream: BinaryIO, chunk_size: int = CHUNK_SIZE) -> ContentHash:
    """Read `stream` to its end once and return its SHA-256, SM3, size and CID."""
    hasher = ContentHasher()
    while chunk := stream.read(chunk_size):
        hasher.update(chunk)
    return hasher.result()


def hash_bytes(data: bytes) -> ContentDigest:
    """SHA-256, SM3 and size of an in-memory byte string."""
    hasher = StreamHasher()
    hasher.update(data)
    return hasher.digest()


EMPTY_CONTENT: Final = "the file is empty"
"""Why empty content is refused everywhere (API, client, CLI): every empty file has the
same hashes, so anchoring one would prove nothing about anyone's file."""
EMPTY = hash_bytes(b"")
"""The hashes of zero bytes."""
