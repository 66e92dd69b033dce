"""A devnet that loses its whole state: the restarted service re-anchors and says so."""

from __future__ import annotations

import hashlib
import json
import time

import httpx
import pytest

from notary.ops import devnet
from notary.ops.deploy import deploy
from notary.verify.certificate import Outcome, verify
from tests.conftest import Chain, make_settings
from tests.e2e.conftest import ServiceProcess

pytestmark = pytest.mark.devnet


def wait_all_anchored(client: httpx.Client, ids: list[str], after_loss: bool = False) -> list[dict]:
    """Views once all are anchored (with `after_loss`: anchored again after the service
    noticed the loss; until its anchoring process has checked the chain, the database
    still says anchored)."""
    deadline = time.monotonic() + 60
    while True:
        views = [client.get(f"/v1/evidence/{i}").json() for i in ids]
        done = [v["status"] == "anchored" for v in views]
        if after_loss:
            kinds = [[e["kind"] for e in v["history"]] for v in views]
            done = [
                d and k[-2:] == ["anchor_lost", "anchored"]
                for d, k in zip(done, kinds, strict=True)
            ]
        if all(done):
            return views
        assert time.monotonic() < deadline, [v["status"] for v in views]
        time.sleep(0.2)


def test_reset_devnet_is_noticed_and_everything_reanchored(tmp_path) -> None:
    settings = make_settings(tmp_path / "chain")
    devnet.up(settings)
    service: ServiceProcess | None = None
    try:
        chain = Chain(settings, deploy(settings).deployment)
        service = ServiceProcess(chain, tmp_path / "service")
        key = service.depositor_key()
        service.start()
        with httpx.Client(
            base_url=service.url, timeout=60, headers={"Authorization": f"Bearer {key}"}
        ) as c:
            items = [
                {"sha256": hashlib.sha256(f"reset-{i}".encode()).hexdigest()} for i in range(30)
            ]
            ids = [
                e["id"]
                for e in c.post("/v1/evidence/hashes", json={"items": items}).json()["items"]
            ]
            before = wait_all_anchored(c, ids)
            old_cert = c.get(f"/v1/evidence/{ids[0]}/certificate").content
        service.stop()

        devnet.down(settings)
        devnet.status(settings).state_file.unlink()  # the chain loses everything
        devnet.up(settings)
        # the reset chain is below the anchor's block: a verifier cannot decide on it (and
        # once it has grown past it, the block there is another one: invalid)
        assert verify(old_cert, chain.rpc_url).outcome is Outcome.CANNOT_DECIDE
        redeployed = deploy(settings)
        assert redeployed.reused is False
        assert redeployed.deployment.registry == chain.deployment.registry  # same deployer nonce

        service.start()
        with httpx.Client(
            base_url=service.url, timeout=60, headers={"Authorization": f"Bearer {key}"}
        ) as c:
            after = wait_all_anchored(c, ids, after_loss=True)
            for public_id in ids:
                cert = c.get(f"/v1/evidence/{public_id}/certificate").content
                assert verify(cert, chain.rpc_url).outcome is Outcome.VALID
            history = [e["kind"] for e in c.get(f"/v1/evidence/{ids[0]}").json()["history"]]
            issued = c.get(f"/v1/evidence/{ids[0]}/certificates").json()
            current = c.get(f"/v1/evidence/{ids[0]}/certificate").json()
        service.stop()
        assert history == ["received", "batched", "anchored", "anchor_lost", "anchored"]
        # the history keeps both certificates: the superseded one first, the current last
        assert [i["status"] for i in issued] == ["superseded", "current"]
        assert issued[0]["certificate"] == json.loads(old_cert)
        assert "lost" in issued[0]["reason"] and issued[0]["superseded_at"].endswith("Z")
        assert issued[1]["certificate"] == current
        superseded = verify(json.dumps(issued[0]["certificate"]), chain.rpc_url).outcome
        assert superseded in (Outcome.INVALID, Outcome.CANNOT_DECIDE)  # never valid again
        assert {a["anchor"]["root"] for a in after} == {b["anchor"]["root"] for b in before}
        # The tx hash may repeat: on a reset chain the same notary nonce, fees and calldata
        # give byte-identical signed transactions (RFC 6979). That old certificates failed on
        # the reset chain and the new ones pass is what proves the re-anchoring.
    finally:
        if service is not None:
            service.stop()  # also when an assertion failed: no service left running
        devnet.down(settings)
