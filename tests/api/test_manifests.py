"""Batch manifests on IPFS, and `notary audit rebuild|log` with chain and IPFS only."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from notary.chain.registry import RegistryWriter, connect
from notary.core import manifest
from notary.ipfs.client import KuboRpc
from notary.ops import devnet
from notary.ops.keys import load_key

pytestmark = pytest.mark.devnet
NOTARY = str(Path(sys.executable).parent / "notary")


def audit(chain, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARY_")}
    env["NOTARY_DATA_DIR"] = "/nonexistent-no-database-needed"
    return subprocess.run(
        [
            NOTARY,
            "audit",
            *args,
            "--rpc",
            chain.rpc_url,
            "--registry",
            chain.deployment.registry,
            *(["--ipfs", devnet.status(chain.settings).ipfs_api] if args[0] == "rebuild" else []),
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def wait_manifest_pinned(chain, cid: str) -> None:
    node = KuboRpc(devnet.status(chain.settings).ipfs_api)
    deadline = time.monotonic() + 30
    while cid not in node.pins():
        assert time.monotonic() < deadline, "manifest never pinned"
        time.sleep(0.2)


@pytest.mark.parametrize("count", [1, 10_000])
def test_manifest_rebuilds_the_anchored_root(api, chain, count) -> None:
    items = [
        {"sha256": hashlib.sha256(f"manifest-{count}-{i}".encode()).hexdigest()}
        for i in range(count)
    ]
    with api.client() as c:
        first = c.post("/v1/evidence/hashes?wait=60", json={"items": items}).json()["items"][0]
        cert = json.loads(c.get(first["certificate_url"]).content)
    anchor = cert["anchor"]
    assert anchor["manifest"].startswith("bafk") and anchor["leaf_count"] >= 1
    if count == 10_000:
        assert anchor["leaf_count"] == 10_000
    wait_manifest_pinned(chain, anchor["manifest"])
    result = audit(chain, "rebuild", anchor["root"])
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["leaf_count"] == anchor["leaf_count"]
    assert report["manifest"] == anchor["manifest"]


def test_a_manifest_for_other_leaves_is_caught(chain) -> None:
    data, _other_root = manifest.encode([os.urandom(32) for _ in range(3)])
    node = KuboRpc(devnet.status(chain.settings).ipfs_api)
    cid = node.add(io.BytesIO(data), "fake.json")
    assert cid == manifest.cid_of(data)
    writer = RegistryWriter(
        connect(chain.rpc_url),
        chain.deployment.registry,
        load_key(chain.settings.notary_key_path, chain.settings),
    )
    lie = os.urandom(32)
    writer.anchor(lie, 3, cid)  # an anchor whose manifest does not rebuild it
    result = audit(chain, "rebuild", "0x" + lie.hex())
    assert result.returncode == 1
    assert "rebuild root" in json.loads(result.stdout)["reason"]


def test_rebuild_cannot_judge_unknown_roots_or_missing_manifests(chain) -> None:
    unknown = audit(chain, "rebuild", "0x" + os.urandom(32).hex())
    assert unknown.returncode == 2 and "not anchored" in unknown.stderr
    writer = RegistryWriter(
        connect(chain.rpc_url),
        chain.deployment.registry,
        load_key(chain.settings.notary_key_path, chain.settings),
    )
    bare = os.urandom(32)
    writer.anchor(bare, 1, "")
    none = audit(chain, "rebuild", "0x" + bare.hex())
    assert none.returncode == 2 and "no manifest" in none.stderr


def test_log_head_check(chain) -> None:
    result = audit(chain, "log")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["anchors"] > 0
