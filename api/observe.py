"""Request ids and the access log: one ASGI middleware, outermost.

Every request gets an id: the caller's `X-Request-ID` when it is sane (notary.ops.logs),
otherwise a fresh one; it is returned in the `X-Request-ID` response header and is in every
log line written while the request is served (notary.ops.logs.REQUEST_ID).

The access log (logger `notary.access`) has three modes (NOTARY_ACCESS_LOG):
- `summary` (default): a line for each request that failed (4xx at INFO, 5xx at WARNING) or
  took longer than NOTARY_SLOW_REQUEST_SECONDS (at most MAX_LINES of them a period), and
  one INFO line per SUMMARY_SECONDS with the counts of what was served. A 200-file deposit
  (200 uploads, then 200 certificate downloads with `notary deposit --out`) writes one
  summary line, not 400 lines;
- `all`: a line for every request at INFO (uvicorn's own access log stays off either way);
- `off`: nothing.
A pure ASGI middleware rather than a BaseHTTPMiddleware: it adds a few microseconds, not a
task and a stream per request.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from notary.ops.logs import REQUEST_ID, request_id

SUMMARY_SECONDS: Final = 60.0
"""At most one summary line this often, written when a request ends (no timer thread)."""
MAX_LINES: Final = 100
"""In summary mode, at most this many lines of failed (4xx) or slow requests between two
summaries: an overloaded server, where every request is slow, or a client sending bad
requests in a loop, does not flood the log (5xx are always written)."""

log = logging.getLogger("notary.access")


class RequestLog:
    """Sets the request id, adds it to the answer, writes the access log."""

    def __init__(self, app: ASGIApp, mode: str = "summary", slow_seconds: float = 1.0) -> None:
        self.app = app
        self.mode = mode
        self.slow_seconds = slow_seconds
        self._counts: Counter[str] = Counter()
        self._slowest = 0.0
        self._since = time.monotonic()
        self._lines = 0
        """Lines of failed or slow requests written since the last summary."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        rid = request_id(incoming, uuid.uuid4().hex)
        header = (b"x-request-id", rid.encode("ascii"))
        status = 500  # what the client sees if the app fails before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        token = REQUEST_ID.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            if self.mode != "off":
                self._line(scope, status, seconds)
            REQUEST_ID.reset(token)
            if self.mode == "summary":
                self._count(status, seconds)

    def _line(self, scope: Scope, status: int, seconds: float) -> None:
        """The request's own line, when the mode wants one (with its request id)."""
        slow = seconds > self.slow_seconds
        if self.mode == "all" or status >= 400 or slow:
            if self.mode == "summary":
                self._lines += 1
                if self._lines > MAX_LINES and status < 500:
                    return  # counted in the next summary line instead
            level = logging.WARNING if status >= 500 else logging.INFO
            log.log(
                level,
                "%s %s %s %.3f s",
                scope["method"],
                scope["path"],
                status,
                seconds,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "seconds": round(seconds, 6),
                    "slow": slow,
                },
            )

    def _count(self, status: int, seconds: float) -> None:
        """Count the request; write the summary line when SUMMARY_SECONDS have passed."""
        self._counts[f"{status // 100}xx"] += 1
        self._slowest = max(self._slowest, seconds)
        now = time.monotonic()
        if now - self._since >= SUMMARY_SECONDS:
            counts, self._counts = self._counts, Counter()
            slowest, self._slowest = self._slowest, 0.0
            period, self._since = now - self._since, now
            left_out, self._lines = max(self._lines - MAX_LINES, 0), 0
            log.info(
                "%d requests in %.0f s (%s), slowest %.3f s, %d failed or slow left unlogged",
                counts.total(),
                period,
                ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
                slowest,
                left_out,
                extra={
                    "requests": counts.total(),
                    **counts,
                    "slowest_seconds": slowest,
                    "left_out": left_out,
                },
            )
