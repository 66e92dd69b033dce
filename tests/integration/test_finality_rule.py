"""The `auto` finality rule against a node that does not know the tag, and against passing
errors: tests.rpc_proxy in front of the real anvil answers `eth_getBlockByNumber
("finalized")` as a test tells it to (fault injection: anvil itself always knows the tag)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notary.chain.finality import Finality
from notary.chain.registry import connect_reader
from notary.errors import ChainError
from notary.ops.devnet import rpc_call
from tests.rpc_proxy import RpcProxy

pytestmark = pytest.mark.devnet


@pytest.fixture
def proxy(chain) -> Iterator[RpcProxy]:
    with RpcProxy(chain.rpc_url) as p:
        yield p


def finality(chain, proxy: RpcProxy, rule="auto", confirmations=3) -> Finality:
    registry = connect_reader(proxy.url, chain.deployment.registry, retries=False)
    return Finality(registry, rule, confirmations)


UNKNOWN_TAG = {"code": -32602, "message": "invalid block tag: finalized"}
RATE_LIMITED = {"code": -32005, "message": "request rate exceeded, try again later"}


def test_a_node_without_the_tag_gets_confirmations(chain, proxy) -> None:
    f = finality(chain, proxy)
    proxy.errors = [UNKNOWN_TAG]
    head = int(rpc_call(chain.rpc_url, "eth_blockNumber"), 16)
    assert f.final_block() == head - 3
    assert f.describe() == "3 confirmation(s)"
    assert f.final_block() == head - 3  # decided once: the tag is not asked again


def test_a_passing_error_decides_nothing(chain, proxy) -> None:
    f = finality(chain, proxy)
    proxy.errors = [RATE_LIMITED]
    with pytest.raises(ChainError, match="rate"):
        f.final_block()  # the first question failed for a passing reason: no rule yet
    head = int(rpc_call(chain.rpc_url, "eth_blockNumber"), 16)
    assert f.final_block() == head  # the devnet's finalized block is its head
    assert "finalized" in f.describe()


def test_a_tag_that_answered_is_never_given_up(chain, proxy) -> None:
    f = finality(chain, proxy)
    head = int(rpc_call(chain.rpc_url, "eth_blockNumber"), 16)
    assert f.final_block() == head
    for error in (RATE_LIMITED, UNKNOWN_TAG):
        proxy.errors = [error]
        with pytest.raises(ChainError):
            f.final_block()  # never falls back to 0 confirmations
        assert f.final_block() == head


def test_the_finalized_rule_refuses_a_node_without_the_tag(chain, proxy) -> None:
    f = finality(chain, proxy, rule="finalized")
    proxy.errors = [UNKNOWN_TAG]
    with pytest.raises(ChainError, match="NOTARY_FINALITY=confirmations"):
        f.final_block()
