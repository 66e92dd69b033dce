"""Our unixfs-v1-2025 CID computation against the reference importer (ipfs-unixfs-importer).

Profile sizes cover one chunk, exactly one chunk and several; tiny chunk sizes and fan-outs
exercise the multi-level balanced layout (which at the real 1 MiB x 1024 starts past 1 GiB).
"""

from __future__ import annotations

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
from notary.toolchain import IPFS_DIR, NODE22_BIN, REPO_ROOT

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
    import hashlib

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
