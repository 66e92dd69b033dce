"""A JSON-RPC proxy in front of the real anvil, for faults anvil cannot show by itself.

It forwards every request, except that a test can make it
- answer the next `eth_getBlockByNumber("finalized")` questions with JSON-RPC errors
  (`errors`, used up in order),
- say it is syncing (`syncing`),
- be a node that has only reached block `behind`: it answers `eth_blockNumber` with it,
  makes state reads at a tag ("latest", ...) at that block, and has no later blocks,
  transactions or receipts;
- serve no logs (`no_logs`): `eth_getLogs` answers [] (a node whose log index is missing);
- refuse `eth_getLogs` over more than `max_log_blocks` blocks with a JSON-RPC error, as
  public nodes limit the range (`log_queries` records each (fromBlock, toBlock) asked; a
  missing bound or a tag counts as the head).
Like anvil, it answers browsers' CORS preflights and allows any origin (the web verifier).
"""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

TAGS = ("latest", "pending", "safe", "finalized")
SYNCING = {"startingBlock": "0x0", "currentBlock": "0x1", "highestBlock": "0xffff"}


class RpcProxy:
    """Start it with `with RpcProxy(upstream) as proxy:`; its URL is `proxy.url`."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.errors: list[dict[str, object]] = []
        self.syncing = False
        self.behind: int | None = None
        self.no_logs = False
        self.max_log_blocks: int | None = None
        self.log_queries: list[tuple[int, int]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["content-length"])))
                reply = proxy.answer(request)
                data = json.dumps({"jsonrpc": "2.0", "id": request["id"], **reply}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.send_header("access-control-allow-origin", "*")
                self.end_headers()
                self.wfile.write(data)

            def do_OPTIONS(self) -> None:  # a browser's CORS preflight
                self.send_response(204)
                self.send_header("access-control-allow-origin", "*")
                self.send_header("access-control-allow-methods", "POST")
                self.send_header("access-control-allow-headers", "content-type")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> RpcProxy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, request: dict[str, object]) -> dict[str, object]:
        """The `result` (or `error`) for one request."""
        method = str(request["method"])
        params = list(request.get("params") or [])  # type: ignore[call-overload]
        head = self.behind
        if method == "eth_getBlockByNumber" and params[0] == "finalized" and self.errors:
            return {"error": self.errors.pop(0)}
        if method == "eth_getLogs" and self.no_logs:
            return {"result": []}
        bounds = params[0] if method == "eth_getLogs" and isinstance(params[0], dict) else {}
        if bounds and "blockHash" not in bounds:  # a missing bound or a tag is the head
            low, high = (self._block(bounds.get(k, "latest")) for k in ("fromBlock", "toBlock"))
            window = (low, high)
            self.log_queries.append(window)
            if self.max_log_blocks is not None and window[1] - window[0] + 1 > self.max_log_blocks:
                limit = f"query exceeds max block range {self.max_log_blocks}"
                return {"error": {"code": -32005, "message": limit}}
        if method == "eth_syncing" and self.syncing:
            return {"result": SYNCING}
        if head is not None:
            if method == "eth_blockNumber":
                return {"result": hex(head)}
            if method == "eth_getBlockByNumber" and params[0] not in TAGS:
                if int(str(params[0]), 16) > head:
                    return {"result": None}
            elif params and params[-1] in TAGS:
                params = [*params[:-1], hex(head)]  # state as of the block it has reached
        reply = self._forward({**request, "params": params})
        result = reply.get("result")
        mined = isinstance(result, dict) and result.get("blockNumber")
        if head is not None and isinstance(mined, str) and int(mined, 16) > head:
            return {"result": None}  # a transaction of a block this node does not have
        return {k: v for k, v in reply.items() if k in ("result", "error")}

    def _block(self, bound: object) -> int:
        """A block number of an eth_getLogs bound: hex, or a tag (the node's head)."""
        if isinstance(bound, str) and bound.startswith("0x"):
            return int(bound, 16)
        if bound == "earliest":
            return 0
        if self.behind is not None:
            return self.behind
        head = self._forward({"jsonrpc": "2.0", "id": 0, "method": "eth_blockNumber"})
        return int(str(head["result"]), 16)

    def _forward(self, request: dict[str, object]) -> dict[str, object]:
        forwarded = urllib.request.Request(
            self.upstream, json.dumps(request).encode(), {"content-type": "application/json"}
        )
        with urllib.request.urlopen(forwarded, timeout=10) as response:
            reply: dict[str, object] = json.loads(response.read())
        return reply
