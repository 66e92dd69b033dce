"""The devnet launcher: stop/start keeps every anchor; deploy reuses or redeploys honestly."""

from __future__ import annotations

import pytest

from notary.issue.stamp import stamp
from notary.ops import devnet
from notary.ops.deploy import deploy
from notary.ops.devnet import rpc_call
from notary.verify.certificate import Outcome, verify
from tests.conftest import make_settings
from tests.integration.conftest import make_files

pytestmark = pytest.mark.devnet


@pytest.fixture
def own_devnet(tmp_path):
    """A devnet of its own, so stopping it does not disturb the session's."""
    settings = make_settings(tmp_path / "data")
    yield settings
    devnet.down(settings)


def verdict_of(certificate, file, rpc_url):
    with file.open("rb") as fh:
        return verify(certificate.read_bytes(), rpc_url, fh)


def test_restart_keeps_anchors(own_devnet, tmp_path) -> None:
    settings = own_devnet
    started = devnet.up(settings)
    assert started.running and started.chain_id == settings.devnet_chain_id
    assert devnet.up(settings).pid == started.pid  # up is idempotent
    first = deploy(settings)
    files = make_files(tmp_path / "files", 3)
    result = stamp(settings, files)
    height = devnet.status(settings).block_number

    assert devnet.down(settings) is True
    assert devnet.status(settings).running is False
    assert devnet.down(settings) is False  # already stopped

    restarted = devnet.up(settings)
    assert restarted.pid != started.pid
    assert restarted.block_number == height
    assert deploy(settings).reused is True
    assert deploy(settings).deployment == first.deployment
    verdict = verdict_of(result.certificates[1], files[1], restarted.rpc_url)
    assert verdict.outcome is Outcome.VALID, verdict
    again = stamp(settings, make_files(tmp_path / "more", 1, prefix="after-restart"))
    assert again.receipt.anchor.sequence == result.receipt.anchor.sequence + 1


def test_reset_chain_gets_a_new_registry_and_old_certificates_fail(own_devnet, tmp_path) -> None:
    settings = own_devnet
    devnet.up(settings)
    deploy(settings)
    files = make_files(tmp_path / "files", 2)
    result = stamp(settings, files)
    devnet.down(settings)
    devnet.status(settings).state_file.unlink()  # the chain loses its state

    fresh = devnet.up(settings)
    assert fresh.block_number == 0
    redeployed = deploy(settings)
    assert redeployed.reused is False
    verdict = verdict_of(result.certificates[0], files[0], fresh.rpc_url)
    # the reset chain has not reached the anchor's block yet: nothing to judge on it
    assert verdict.outcome is Outcome.CANNOT_DECIDE
    rpc_call(fresh.rpc_url, "anvil_mine", [5])  # once it has, the block there is another one
    verdict = verdict_of(result.certificates[0], files[0], fresh.rpc_url)
    assert verdict.outcome is Outcome.INVALID  # nothing is anchored on the reset chain


def test_port_taken_by_another_node(chain, tmp_path) -> None:
    settings = make_settings(tmp_path / "other")
    settings = settings.model_copy(update={"devnet_port": chain.settings.devnet_port})
    with pytest.raises(devnet.DevnetError, match="taken"):
        devnet.up(settings)
