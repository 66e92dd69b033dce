"""Request body limits per route, answered with our own 413 before the body is parsed.

The JSON deposit routes would otherwise read and parse whatever arrives (a 100 MB "hash
deposit" is parsed before pydantic can refuse it), and /v1/verify, which needs no key,
would spool any upload to disk. The limit is checked against Content-Length before a
byte is read, and against the bytes as they arrive when there is none (chunked uploads).
The 413 goes through the app's error handlers, so it has the one error shape.

Both checks run when the app first reads the body, so on a route that needs an API key
the key is checked first (api.strict): a caller without one gets 401, never 413.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit:,} bytes")


class BodyLimits:
    """ASGI middleware: `limits` maps (method, path) to the largest body in bytes, or to
    None for a route that enforces a limit of its own while it streams; every other request
    may carry at most `default` bytes."""

    def __init__(
        self, app: ASGIApp, limits: Mapping[tuple[str, str], int | None], default: int
    ) -> None:
        self.app = app
        self.limits = dict(limits)
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get((scope["method"], scope["path"]), self.default)
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        received = 0

        async def limited() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
