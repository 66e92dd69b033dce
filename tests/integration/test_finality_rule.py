"""The `auto` finality rule against a node that does not know the tag, and against passing
errors: a JSON-RPC proxy in front of the real anvil answers `eth_getBlockByNumber
("finalized")` as a test tells it to (fault injection: anvil itself always knows the tag)."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notary.chain.finality import Finality
from notary.chain.registry import Registry, connect
from notary.errors import ChainError
from notary.ops.devnet import rpc_call

pytestmark = pytest.mark.devnet


class Proxy:
    """Forwards JSON-RPC to `upstream`; the next answers for the finalized tag can be
    replaced by errors (a list of JSON-RPC error objects, used up in order)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.errors: list[dict[str, object]] = []
        self.hide_from: int | None = None
        """Blocks from this number on are not served (a node that is behind)."""
        self.syncing = False
        """What eth_syncing says: True makes it answer a syncing status."""
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                request = json.loads(body)
                method, params = request.get("method"), request.get("params") or []
                hidden = proxy.hide_from
                if method == "eth_getBlockByNumber" and params[0] == "finalized" and proxy.errors:
                    answer = json.dumps(
                        {"jsonrpc": "2.0", "id": request["id"], "error": proxy.errors.pop(0)}
                    ).encode()
                elif method == "eth_syncing" and proxy.syncing:
                    status = {
                        "startingBlock": "0x0",
                        "currentBlock": "0x1",
                        "highestBlock": "0xffff",
                    }
                    answer = json.dumps(
                        {"jsonrpc": "2.0", "id": request["id"], "result": status}
                    ).encode()
                elif hidden is not None and method == "eth_blockNumber":
                    answer = json.dumps(
                        {"jsonrpc": "2.0", "id": request["id"], "result": hex(hidden - 1)}
                    ).encode()
                elif (
                    hidden is not None
                    and method == "eth_getBlockByNumber"
                    and params[0].startswith("0x")
                    and int(params[0], 16) >= hidden
                ):
                    answer = json.dumps(
                        {"jsonrpc": "2.0", "id": request["id"], "result": None}
                    ).encode()
                else:
                    forwarded = urllib.request.Request(
                        proxy.upstream, body, {"content-type": "application/json"}
                    )
                    with urllib.request.urlopen(forwarded, timeout=10) as response:
                        answer = response.read()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def proxy(chain) -> Iterator[Proxy]:
    p = Proxy(chain.rpc_url)
    yield p
    p.server.shutdown()
    p.server.server_close()


def finality(chain, proxy: Proxy, rule="auto", confirmations=3) -> Finality:
    registry = Registry(connect(proxy.url, retries=False), chain.deployment.registry, proxy.url)
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
