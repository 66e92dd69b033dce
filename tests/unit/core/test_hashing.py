"""SHA-256 and SM3 known answers, one-pass streaming over multi-MB files, and the content
hasher that adds the CID to the same pass."""

from __future__ import annotations

import io
import os
import random
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notary.core.cid import raw_cid
from notary.core.hashing import CHUNK_SIZE, ContentHasher, hash_bytes, hash_content, hash_stream
from notary.core.unixfs import UnixfsHasher

# FIPS 180-2 appendix B and GB/T 32905-2016 appendix A examples
SHA256_VECTORS = [
    (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (b"a" * 1_000_000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
]
SM3_VECTORS = [
    (b"", "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"),
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
]


@pytest.mark.parametrize(("data", "expected"), SHA256_VECTORS)
def test_sha256_known_answers(data: bytes, expected: str) -> None:
    assert hash_bytes(data).sha256.hex() == expected
    assert hash_stream(io.BytesIO(data), chunk_size=7).sha256.hex() == expected


@pytest.mark.parametrize(("data", "expected"), SM3_VECTORS)
def test_sm3_known_answers(data: bytes, expected: str) -> None:
    assert hash_bytes(data).sm3.hex() == expected
    assert hash_stream(io.BytesIO(data), chunk_size=5).sm3.hex() == expected


def test_empty_file(tmp_path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with path.open("rb") as fh:
        digest = hash_stream(fh)
    assert digest.size == 0
    assert digest.sha256.hex() == SHA256_VECTORS[0][1]
    assert digest.sm3.hex() == SM3_VECTORS[0][1]


@pytest.mark.node
def test_multi_megabyte_file_matches_independent_tools(tmp_path) -> None:
    """5 MiB + 3 bytes (not a multiple of the chunk): coreutils and Node's OpenSSL agree."""
    data = random.Random(7).randbytes(5 * CHUNK_SIZE + 3)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    with path.open("rb") as fh:
        digest = hash_stream(fh)
    coreutils = subprocess.run(
        ["sha256sum", str(path)], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    node_sm3 = subprocess.run(
        [
            "node",
            "-e",
            "const c=require('crypto');process.stdout.write("
            "c.createHash('sm3').update(require('fs').readFileSync(process.argv[1])).digest('hex'))",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert digest.size == len(data) == os.path.getsize(path)
    assert digest.sha256.hex() == coreutils
    assert digest.sm3.hex() == node_sm3


@given(st.binary(max_size=4096), st.integers(min_value=1, max_value=600))
def test_chunking_never_changes_the_digest(data: bytes, chunk: int) -> None:
    whole = hash_bytes(data)
    assert hash_stream(io.BytesIO(data), chunk_size=chunk) == whole
    assert whole.size == len(data)


@given(st.binary(min_size=1, max_size=4096), st.integers(min_value=1, max_value=600))
def test_content_hasher_gives_the_digest_and_the_raw_cid_of_one_chunk(
    data: bytes, piece: int
) -> None:
    """Up to one chunk the CID follows from the SHA-256 alone (notary.core.cid)."""
    hasher = ContentHasher()
    view = memoryview(data)
    for i in range(0, len(data), piece):
        hasher.update(view[i : i + piece])  # memoryviews, as the upload feeds them
    result = hasher.result()
    assert result.digest == hash_bytes(data)
    assert result.cid == raw_cid(result.digest.sha256)
    assert hash_content(io.BytesIO(data), chunk_size=piece) == result


def test_content_hasher_over_several_chunks_matches_both_hashers() -> None:
    data = random.Random(11).randbytes(2 * CHUNK_SIZE + 5)
    cids = UnixfsHasher()
    cids.update(data)
    result = hash_content(io.BytesIO(data), chunk_size=300_001)
    assert result.digest == hash_bytes(data)
    assert result.cid == cids.cid() != raw_cid(result.digest.sha256)
