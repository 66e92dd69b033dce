"""The IPFS node stops during a stream of deposits: nothing is lost, all gets pinned later."""

from __future__ import annotations

import os
import time

import httpx
import pytest

from notary.ipfs.client import KuboRpc
from notary.ops import devnet
from notary.ops.deploy import deploy
from tests.conftest import Chain, make_settings
from tests.e2e.conftest import ServiceProcess

pytestmark = pytest.mark.devnet


def test_ipfs_outage_loses_nothing(tmp_path) -> None:
    settings = make_settings(tmp_path / "devnet")
    devnet.up(settings)
    try:
        chain = Chain(settings, deploy(settings).deployment)
        api = devnet.status(settings).ipfs_api
        service = ServiceProcess(chain, tmp_path / "service", NOTARY_IPFS_API=api)
        service.cli("admin", "create-org", "studio", "--name", "Studio")
        key = service.cli("admin", "create-key", "studio").stdout.strip()
        service.start()
        files = {f"design-{i}.png": os.urandom(1500 + i) for i in range(12)}
        ids = []
        with httpx.Client(
            base_url=service.url, timeout=60, headers={"Authorization": f"Bearer {key}"}
        ) as c:
            for n, (name, data) in enumerate(files.items()):
                if n == 4:  # the IPFS node goes down in the middle of the stream
                    assert devnet._stop(devnet.status(settings).ipfs_pid, "server.mjs")
                r = c.post("/v1/evidence", files={"file": (name, data)})
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])
            deadline = time.monotonic() + 60
            while True:  # everything is anchored although part of it cannot be pinned
                views = [c.get(f"/v1/evidence/{i}").json() for i in ids]
                if all(v["status"] == "anchored" for v in views):
                    break
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert {v["ipfs"]["pin_state"] for v in views[4:]} == {"pending"}
            devnet.up(settings)  # the node comes back (same repo, same port)
            deadline = time.monotonic() + 90
            while True:
                views = [c.get(f"/v1/evidence/{i}").json() for i in ids]
                if all(v["ipfs"]["pin_state"] == "pinned" for v in views):
                    break
                assert time.monotonic() < deadline, [v["ipfs"] for v in views]
                time.sleep(0.3)
        service.stop()
        node = KuboRpc(api)
        for view, data in zip(views, files.values(), strict=True):
            assert b"".join(node.cat(view["ipfs"]["cid"])) == data
    finally:
        devnet.down(settings)
