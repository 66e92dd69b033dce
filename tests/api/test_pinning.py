"""File deposits on IPFS through the real server and the devnet's real IPFS node."""

from __future__ import annotations

import hashlib
import os
import time

import pytest
from sqlalchemy import select

from notary.core.unixfs import UnixfsHasher
from notary.ipfs.client import KuboRpc
from notary.ops import devnet
from notary.store.models import Evidence
from notary.verify.certificate import Outcome, verify
from tests.api.conftest import UPLOAD_LIMIT

pytestmark = pytest.mark.devnet


def wait_pinned(client, evidence_id: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        ev = client.get(f"/v1/evidence/{evidence_id}").json()
        if ev["ipfs"]["pin_state"] != "pending":
            return ev
        assert time.monotonic() < deadline, ev
        time.sleep(0.1)


def test_file_is_pinned_under_the_cid_we_computed(api, chain) -> None:
    data = os.urandom(UPLOAD_LIMIT - 1000)  # under the server's limit
    ours = UnixfsHasher()
    ours.update(data)
    with api.client() as c:
        ev = c.post("/v1/evidence?wait=30", files={"file": ("spring.png", data)}).json()
        assert ev["ipfs"] == {
            "cid": ours.cid(),
            "profile": "unixfs-v1-2025",
            "pin_state": ev["ipfs"]["pin_state"],
            "pin_error": None,
        }
        done = wait_pinned(c, ev["id"])
        assert done["ipfs"]["pin_state"] == "pinned"
        assert "pinned" in [e["kind"] for e in done["history"]]
        cert = c.get(ev["certificate_url"]).content
    node = KuboRpc(devnet.status(chain.settings).ipfs_api)
    assert ours.cid() in node.pins()
    assert b"".join(node.cat(ours.cid())) == data
    # the spooled copy is gone (other test files may still have files of their own there)
    assert not [p for p in api.service.spool_dir.iterdir() if p.read_bytes() == data]
    assert verify(cert, chain.rpc_url).outcome is Outcome.VALID
    assert b'"cid": "' + ours.cid().encode() in cert


def test_repeated_and_rejected_uploads_leave_no_spool(api) -> None:
    data = os.urandom(5000)
    before = set(api.service.spool_dir.iterdir())  # other test files' files may be pending
    with api.client() as c:
        first = c.post("/v1/evidence", files={"file": ("a.png", data)}).json()
        wait_pinned(c, first["id"])
        again = c.post("/v1/evidence", files={"file": ("b.png", data)})
        assert again.status_code == 200 and again.json()["id"] == first["id"]
        big = c.post("/v1/evidence", files={"file": ("big.bin", os.urandom(UPLOAD_LIMIT + 1))})
        assert big.status_code == 413
        bad = c.post(
            "/v1/evidence",
            files={"file": ("c.png", os.urandom(10)), "metadata": (None, '{"size": 3}')},
        )
        assert bad.status_code == 422
    assert set(api.service.spool_dir.iterdir()) <= before


def test_hash_deposits_have_nothing_to_pin(api) -> None:
    with api.client() as c:
        ev = c.post("/v1/evidence/hash", json={"sha256": hashlib.sha256(b"x").hexdigest()})
        assert ev.json()["ipfs"] is None


def test_a_pin_failure_is_explained_in_the_evidence(api_paused) -> None:
    """The spooled copy vanishes before the pinner gets to it (an operator's cleanup gone
    wrong): the evidence says pinning failed, and why."""
    service = api_paused.service
    assert service.parts.pinner is not None
    with api_paused.client() as c:
        ev = c.post("/v1/evidence", files={"file": ("lost.bin", os.urandom(5000))}).json()
        assert ev["ipfs"]["pin_state"] == "pending" and ev["ipfs"]["pin_error"] is None
        with service.factory() as session:
            spool = session.scalar(select(Evidence.spool).where(Evidence.public_id == ev["id"]))
        assert spool is not None
        (service.spool_dir / spool).unlink()  # only this deposit's copy
        service.parts.pinner.run_once()
        failed = c.get(f"/v1/evidence/{ev['id']}").json()
    assert failed["ipfs"]["pin_state"] == "failed"
    assert "missing" in failed["ipfs"]["pin_error"]
    assert "pin_failed" in [e["kind"] for e in failed["history"]]
