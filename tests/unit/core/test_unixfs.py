"""Our unixfs-v1-2025 CID computation against the reference importer (ipfs-unixfs-importer).

Profile sizes cover one chunk, exactly one chunk and several; tiny chunk sizes and fan-outs
exercise the multi-level balanced layout (which at the real 1 MiB x 1024 starts past 1 GiB).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notary.core.cid import CHUNK_SIZE, raw_cid
from notary.core.unixfs import UnixfsHasher
from notary.ops.toolchain import IPFS_DIR, NODE22_BIN, REPO_ROOT

SCRIPT = (REPO_ROOT / "tests" / "js" / "unixfs_cids.mjs").read_text()

pytestmark = pytest.mark.node


def reference(
    blobs: list[bytes], chunk_size: int | None = None, max_links: int | None = None
) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, blob in enumerate(blobs):
            paths.append(str(Path(folder) / str(i)))
            Path(paths[-1]).write_bytes(blob)
        arg = json.dumps({"paths": paths, "chunkSize": chunk_size, "maxLinks": max_links})
        out = subprocess.run(
            [str(NODE22_BIN), "--input-type=module", "-e", SCRIPT, arg],
            cwd=IPFS_DIR,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
    return list(json.loads(out.stdout))


def ours(
    blob: bytes, chunk_size: int = CHUNK_SIZE, max_links: int = 1024, piece: int = 65536
) -> str:
    hasher = UnixfsHasher(chunk_size, max_links)
    for i in range(0, len(blob), piece):
        hasher.update(blob[i : i + piece])
    return hasher.cid()


def test_profile_sizes_match_the_reference() -> None:
    rng = random.Random(499)
    blobs = [
        b"hello world\n",
        b"",
        rng.randbytes(CHUNK_SIZE),
        rng.randbytes(CHUNK_SIZE + 1),
        rng.randbytes(3 * CHUNK_SIZE + 17),
        rng.randbytes(2 * CHUNK_SIZE),
    ]
    assert [ours(b) for b in blobs] == reference(blobs)
    assert ours(b"hello world\n") == "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"


def test_one_chunk_is_the_raw_cid_of_its_sha256() -> None:
    data = os.urandom(CHUNK_SIZE)
    assert ours(data) == raw_cid(hashlib.sha256(data).digest())


def test_multi_level_trees_match_the_reference() -> None:
    rng = random.Random(7)
    sizes = [0, 1, 9, 10, 11, 39, 40, 41, 160, 161, 400, 641, 1000]
    blobs = [rng.randbytes(n) for n in sizes]
    assert [ours(b, chunk_size=10, max_links=4, piece=3) for b in blobs] == reference(
        blobs, chunk_size=10, max_links=4
    )


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.binary(max_size=700), min_size=1, max_size=12),
    st.integers(2, 6),
    st.integers(1, 32),
)
def test_random_layouts_match_the_reference(blobs, max_links, chunk_size) -> None:
    assert [ours(b, chunk_size, max_links, piece=7) for b in blobs] == reference(
        blobs, chunk_size, max_links
    )


def test_feeding_pattern_does_not_matter() -> None:
    data = os.urandom(5000)
    assert ours(data, 64, 3, piece=1) == ours(data, 64, 3, piece=5000) == ours(data, 64, 3, 63)


# IPIP-499 published fixtures for unixfs-v1-2025: kubo's test/cli/cid_profiles_test.go (also
# in js-ipfs-unixfs's ipip-499-profiles.spec.ts). Inputs are the ChaCha20 keystream (RFC 7539,
# key = SHA-256(seed), 12 zero nonce bytes, counter from 0).
IPIP_499 = [
    ("hello world", 11, "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"),
    ("chunk-v1-seed", CHUNK_SIZE, "bafkreiacndfy443ter6qr2tmbbdhadvxxheowwf75s6zehscklu6ezxmta"),
    (
        "chunk-v1-seed",
        CHUNK_SIZE + 1,
        "bafybeigmix7t42i6jacydtquhet7srwvgpizfg7gjbq7627d35mjomtu64",
    ),
    (
        "v1-2025-seed",
        1024 * CHUNK_SIZE,
        "bafybeihmf37wcuvtx4hpu7he5zl5qaf2ineo2lqlfrapokkm5zzw7zyhvm",
    ),
    (
        "v1-2025-seed",
        1024 * CHUNK_SIZE + 1,  # one byte over 1024 links: a second level
        "bafybeibdsi225ugbkmpbdohnxioyab6jsqrmkts3twhpvfnzp77xtzpyhe",
    ),
]


def keystream(seed: str, size: int):
    from Crypto.Cipher import ChaCha20

    cipher = ChaCha20.new(key=hashlib.sha256(seed.encode()).digest(), nonce=bytes(12))
    while size > 0:
        n = min(size, CHUNK_SIZE)
        yield cipher.encrypt(bytes(n))
        size -= n


@pytest.mark.parametrize(
    ("seed", "size", "expected"), IPIP_499, ids=[f"{s}-{n}" for s, n, _ in IPIP_499]
)
def test_ipip_499_published_fixtures(seed: str, size: int, expected: str) -> None:
    hasher = UnixfsHasher()
    if seed == "hello world":
        hasher.update(b"hello world")
    else:
        for piece in keystream(seed, size):
            hasher.update(piece)
    assert hasher.cid() == expected
