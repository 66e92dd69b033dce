"""The Python client and `notary deposit`, against the real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from notary.client import NotaryClient
from notary.errors import AuthenticationError, NotFoundError, ServiceUnavailableError
from notary.verify.certificate import Outcome, verify

pytestmark = pytest.mark.devnet


class LoseFirstResponses(httpx.HTTPTransport):
    """Delivers each request, but the first `lost` responses never reach the client."""

    def __init__(self, lost: int) -> None:
        super().__init__()
        self.lost = lost
        self.sent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.sent += 1
        if self.sent <= self.lost:
            response.read()
            response.close()
            raise httpx.ReadError("connection reset after the request was processed")
        return response


def make_tree(root: Path, count: int) -> list[Path]:
    files = []
    for i in range(count):
        folder = root / f"season-{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"款式-{i:04d}.png"
        path.write_bytes(os.urandom(64) + str(i).encode())
        files.append(path)
    (root / ".DS_Store").write_bytes(b"hidden")
    (root / "season-0" / "old.png.cert.json").write_text("{}")
    return sorted(files)


def test_client_deposits_file_hash_and_folder(api, chain, tmp_path) -> None:
    files = make_tree(tmp_path / "designs", 30)
    with NotaryClient(api.url, api.keys["studio"]) as client:
        one = client.deposit_file(files[0], title="小熊连衣裙", tags=["spring"], wait=30)
        assert one["status"] == "anchored" and one["metadata"]["title"] == "小熊连衣裙"
        hashed = client.deposit_hash("ab" * 32, title="hash only")
        assert hashed["created"] is True
        folder = client.deposit_folder(tmp_path / "designs", hash_only=True)
        assert [r["metadata"]["name"] for r in folder] == [f.name for f in files]
        assert folder[0]["id"] == one["id"] and folder[0]["created"] is False  # same content
        client.wait_anchored([r["id"] for r in folder], timeout=60)
        target = client.save_certificate(folder[7]["id"], tmp_path / "c.json")
    with files[7].open("rb") as fh:
        assert verify(target.read_bytes(), chain.rpc_url, fh).outcome is Outcome.VALID


def test_retry_after_a_lost_response_returns_the_same_evidence(api, tmp_path) -> None:
    path = tmp_path / "retry.png"
    path.write_bytes(os.urandom(2048))
    transport = LoseFirstResponses(lost=2)
    with NotaryClient(api.url, api.keys["studio"], transport=transport, backoff=0.01) as client:
        result = client.deposit_file(path)
        assert transport.sent == 3  # the deposit reached the server three times
        assert result["created"] is False  # ... and was recorded once
        listed = client._send("GET", "/v1/evidence", params=None).json()["items"]
    assert [i["id"] for i in listed if i["sha256"] == result["sha256"]] == [result["id"]]


def test_client_errors(api) -> None:
    with (
        NotaryClient(api.url, "nk_aaaaaaaaaaaa_" + "b" * 43) as client,
        pytest.raises(AuthenticationError),
    ):
        client.get("ev_x")
    with NotaryClient(api.url, api.keys["studio"]) as client, pytest.raises(NotFoundError):
        client.get("ev_missing")
    with (
        NotaryClient("http://127.0.0.1:9", api.keys["studio"], retries=1, backoff=0) as c,
        pytest.raises(ServiceUnavailableError),
    ):
        c.get("ev_x")


def test_notary_deposit_command(api, chain, tmp_path) -> None:
    files = make_tree(tmp_path / "folder", 12)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARY_")}
    env.update(
        NOTARY_API_URL=api.url,
        NOTARY_API_KEY=api.keys["copycat"],
        NOTARY_DATA_DIR=str(tmp_path / "unused"),
    )
    exe = str(Path(sys.executable).parent / "notary")
    out_dir = tmp_path / "certs"
    result = subprocess.run(
        [exe, "deposit", str(tmp_path / "folder"), "--out", str(out_dir), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["evidence"]) == 12 and len(report["certificates"]) == 12
    assert api.keys["copycat"] not in result.stdout + result.stderr
    cert = (
        out_dir / files[3].relative_to(tmp_path / "folder").parent / (files[3].name + ".cert.json")
    )
    check = subprocess.run(
        [exe, "verify", "-c", str(cert), "-f", str(files[3]), "--rpc", chain.rpc_url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout
    again = subprocess.run(
        [exe, "deposit", "--hash-only", *map(str, files[:3])],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0 and "0 new, 3 already deposited" in again.stdout
    missing = subprocess.run(
        [exe, "deposit", str(tmp_path / "nope")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    no_key = {k: v for k, v in env.items() if k != "NOTARY_API_KEY"}
    nokey = subprocess.run(
        [exe, "deposit", str(files[0])], env=no_key, capture_output=True, text=True, check=False
    )
    assert nokey.returncode == 2 and "NOTARY_API_KEY" in nokey.stderr
