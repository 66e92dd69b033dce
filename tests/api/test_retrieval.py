"""Getting files back (checked against their hash) and court bundles."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from notary.core.cid import cid_bytes_to_text
from tests.integration.test_ipfs import read_car

pytestmark = pytest.mark.devnet
NOTARY = str(Path(sys.executable).parent / "notary")


def deposit_pinned(client: httpx.Client, name: str, data: bytes) -> dict:
    ev = client.post("/v1/evidence?wait=30", files={"file": (name, data, "image/png")}).json()
    deadline = time.monotonic() + 30
    while client.get(f"/v1/evidence/{ev['id']}").json()["ipfs"]["pin_state"] != "pinned":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return ev


def test_file_comes_back_unchanged_to_its_owner_only(api) -> None:
    data = os.urandom(300_000)
    with api.client() as c, api.client("copycat") as other:
        ev = deposit_pinned(c, "小熊-连衣裙.png", data)
        r = c.get(f"/v1/evidence/{ev['id']}/file")
        assert r.status_code == 200 and r.content == data
        assert r.headers["x-content-sha256"] == hashlib.sha256(data).hexdigest()
        assert quote("小熊-连衣裙.png") in r.headers["content-disposition"]
        assert other.get(f"/v1/evidence/{ev['id']}/file").status_code == 404
        hashed = c.post("/v1/evidence/hash", json={"sha256": "cd" * 32}).json()
        assert c.get(f"/v1/evidence/{hashed['id']}/file").status_code == 404


def test_corrupted_copy_is_never_delivered_complete(api_paused) -> None:
    data = os.urandom(200_000)
    with api_paused.client() as c:
        ev = c.post("/v1/evidence", files={"file": ("a.png", data)}).json()
        assert ev["ipfs"]["pin_state"] == "pending"  # nothing pins on this server
        assert c.get(f"/v1/evidence/{ev['id']}/file").content == data  # from the spool
        # The session's paused server may hold other files deposited by other test files.
        spool = api_paused.service.spool_dir
        (spooled,) = [p for p in spool.iterdir() if p.is_file() and p.read_bytes() == data]
        tampered = bytearray(spooled.read_bytes())
        tampered[1000] ^= 1
        spooled.write_bytes(bytes(tampered))
        with pytest.raises(httpx.TransportError):
            c.get(f"/v1/evidence/{ev['id']}/file").read()


def test_bundle_verifies_with_notary_verify_alone(api, chain, tmp_path) -> None:
    data = os.urandom(1024 * 1024 + 10)  # two chunks: a dag-pb root in the CAR
    with api.client() as c:
        ev = deposit_pinned(c, "设计稿 v2.png", data)
        r = c.get(f"/v1/evidence/{ev['id']}/bundle")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    folder = tmp_path / "court"
    folder.mkdir()
    with zipfile.ZipFile(io.BytesIO(r.content)) as bundle:
        bundle.extractall(folder)
    names = {p.name for p in folder.iterdir()} - {"verify.html"}  # tests/api/test_court_bundle.py
    assert names == {
        "设计稿 v2.png",
        "设计稿 v2.png.cert.json",
        "设计稿 v2.png.cert.pdf",
        "设计稿 v2.png.car",
        "certificate.md",
        "certificate-v2.md",
        "README.txt",
        "bundle.json",
    }
    assert (folder / "设计稿 v2.png").read_bytes() == data
    readme = (folder / "README.txt").read_text("utf-8")
    assert "如何核验" in readme and "How to check it" in readme
    assert hashlib.sha256(data).hexdigest() in readme
    result = subprocess.run(
        [
            NOTARY,
            "verify",
            "-c",
            str(folder / "设计稿 v2.png.cert.json"),
            "-f",
            str(folder / "设计稿 v2.png"),
            "--rpc",
            chain.rpc_url,
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    order, blocks = read_car((folder / "设计稿 v2.png.car").read_bytes())
    assert cid_bytes_to_text(order[0]) == ev["ipfs"]["cid"]
    assert all(hashlib.sha256(b).digest() == cid[-32:] for cid, b in blocks.items())
    manifest = json.loads((folder / "bundle.json").read_text("utf-8"))
    assert manifest["cid"] == ev["ipfs"]["cid"]


def test_bundle_needs_anchoring_and_pinning(api_paused) -> None:
    with api_paused.client() as c:
        ev = c.post("/v1/evidence", files={"file": ("b.png", os.urandom(100))}).json()
        r = c.get(f"/v1/evidence/{ev['id']}/bundle")
        assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    assert [p for p in api_paused.service.settings.data_dir.glob("bundle-*")] == []


def test_notary_export_command(api, tmp_path) -> None:
    with api.client() as c:
        ev = deposit_pinned(c, "export.png", os.urandom(5000))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARY_")}
    env.update(NOTARY_API_URL=api.url, NOTARY_API_KEY=api.keys["studio"])
    target = tmp_path / "case-2026.zip"
    result = subprocess.run(
        [NOTARY, "export", ev["id"], "--out", str(target)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "export.png.cert.json" in zipfile.ZipFile(target).namelist()
    missing = subprocess.run(
        [NOTARY, "export", "ev_nothing", "--out", str(tmp_path / "x.zip")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2 and not (tmp_path / "x.zip").exists()
