"""Auditing from the chain alone: anchors by sequence and by block time, and the log head."""

from __future__ import annotations

import os

import pytest

from notary.chain.registry import RegistryWriter, connect
from notary.core.loghead import log_head
from notary.errors import ValidationError
from notary.ops import devnet
from notary.ops.deploy import deploy
from notary.ops.devnet import rpc_call
from notary.ops.keys import load_key
from notary.verify import audit
from tests.conftest import make_settings

pytestmark = pytest.mark.devnet


@pytest.fixture
def timed_anchors(tmp_path):
    """Six anchors at block times T, T+10, ..., T+50 on a devnet of their own."""
    settings = make_settings(tmp_path)
    devnet.up(settings)
    try:
        deployment = deploy(settings).deployment
        writer = RegistryWriter(
            connect(deployment.rpc_url),
            deployment.registry,
            load_key(settings.notary_key_path, settings),
            deployment.rpc_url,
        )
        start = (
            int(
                rpc_call(deployment.rpc_url, "eth_getBlockByNumber", ["latest", False])[
                    "timestamp"
                ],
                16,
            )
            + 1000
        )  # type: ignore[index]
        roots = []
        for i in range(6):
            rpc_call(deployment.rpc_url, "evm_setNextBlockTimestamp", [start + 10 * i])
            root = os.urandom(32)
            assert writer.anchor(root, 1).anchor.timestamp == start + 10 * i
            roots.append(root)
        yield writer, start, roots
    finally:
        devnet.down(settings)


def test_by_time_and_by_sequence(timed_anchors) -> None:
    registry, t, roots = timed_anchors
    assert [a.root for a in audit.by_time(registry, t + 10, t + 40)] == roots[1:4]
    assert [a.root for a in audit.by_time(registry, t + 10, t + 41)] == roots[1:5]
    assert audit.by_time(registry, t + 11, t + 19) == []
    assert [a.root for a in audit.by_time(registry, 0, 2**40, limit=2)] == roots[:2]
    assert audit.first_at_or_after(registry, t + 1000) == len(roots) + 1
    assert audit.first_at_or_after(registry, 0) == 1
    assert [a.root for a in audit.by_sequence(registry, 2, 3)] == roots[1:4]
    assert [a.sequence for a in audit.by_sequence(registry, 5, 100)] == [5, 6]
    with pytest.raises(ValidationError):
        audit.by_time(registry, t + 5, t + 5)
    with pytest.raises(ValidationError):
        audit.by_sequence(registry, 0, 1)


def test_log_head_recomputed_from_the_roots(timed_anchors) -> None:
    registry, _, roots = timed_anchors
    assert log_head(roots) == registry.log_head()
    assert log_head(roots[::-1]) != registry.log_head()  # order matters
    assert log_head(roots[:-1]) != registry.log_head()  # nothing removed
