"""Routes that read requests strictly: JSON bodies through notary.core.jsontext (bounded,
duplicate keys refused) and no query parameter the route does not declare.

FastAPI parses a JSON body with Starlette's ``Request.json()``, plain ``json.loads``: it
accepts duplicate keys (the last wins), NaN and Infinity, and recurses on nesting until
the C stack overflows (web3 raises the recursion limit to 100,000, so ``[[[[...`` killed
the process instead of raising RecursionError). Every route of the app is a StrictRoute:
its request reads the body with ``jsontext.loads`` instead, and before FastAPI touches it,
so a refusal is a domain error (JsonInputError, 422 with its code) rather than FastAPI's
generic 400. Routes that read their body themselves (the streamed file deposit) have no
body field and are left alone.

Unknown query parameters and form parts are refused (422 invalid_input) as unknown JSON
fields are: a misspelt `?untill=` must not silently widen a search.

A route that needs an API key checks it (and the role) before all that: a caller without
a valid key gets 401 (or 403 for a key of another role) without a byte of the body read,
so parsing a hostile 32 MiB body (seconds of CPU) is work only a known organization can
ask for, and such a caller learns nothing about the body either. That includes the 413
of api.limits: its check of Content-Length runs when the body is first read, which now
comes after the key, and it costs nothing to keep it there (no byte has been read yet).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from email.message import Message
from typing import Any, Final

from fastapi import Request, Response
from fastapi.routing import APIRoute

from api.deps import key_check
from notary.core import jsontext
from notary.errors import ValidationError

MAX_JSON_BODY_BYTES: Final = 32 * 1024 * 1024
"""Backstop for any JSON body; api.limits answers 413 at each route's own, smaller limit."""


class StrictJsonRequest(Request):
    """A request whose ``json()`` is ``jsontext.loads`` (bounded, duplicate keys refused)."""

    async def json(self) -> Any:  # noqa: ANN401 (any JSON value)
        if not hasattr(self, "_json"):
            self._json = jsontext.loads(
                await self.body(), max_bytes=MAX_JSON_BODY_BYTES, what="request body"
            )
        return self._json


def _is_json(content_type: str | None) -> bool:
    """Whether FastAPI would parse a body of this type as JSON (as fastapi.routing does)."""
    if not content_type:
        return False  # FastAPI's strict content type: such a body is not parsed as JSON
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class StrictRoute(APIRoute):
    """An APIRoute that checks the API key first (if the route needs one), refuses
    undeclared query parameters and a parameter given twice (which value would count?),
    and whose JSON body, if it takes one, is read by StrictJsonRequest before FastAPI's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        check = key_check(self)
        known = self._query_names()
        media_type = getattr(getattr(self.body_field, "field_info", None), "media_type", "")
        json_body = media_type == "application/json"
        form_parts = (
            frozenset(param.alias for param in self.dependant.body_params)
            if media_type in {"multipart/form-data", "application/x-www-form-urlencoded"}
            else frozenset()
        )

        async def strict(request: Request) -> Response:
            if check is not None:  # the key first: nothing of the request is read before
                await check(request)
            if request.scope.get("query_string"):
                unknown = set(request.query_params) - known
                if unknown:
                    raise ValidationError(f"unknown query parameter {sorted(unknown)[0]!r}")
                names = [name for name, _ in request.query_params.multi_items()]
                if len(names) != len(set(names)):  # no parameter here takes a list
                    twice = sorted({name for name in names if names.count(name) > 1})[0]
                    raise ValidationError(f"query parameter {twice!r} is given more than once")
            if form_parts:  # a form: no part the route does not declare
                unknown = set((await request.form()).keys()) - form_parts  # cached for FastAPI
                if unknown:
                    raise ValidationError(f"unknown part {sorted(unknown)[0]!r}")
            if not json_body:  # no body, or a form or stream: nothing more to check
                return await handler(request)
            strict_request = StrictJsonRequest(request.scope, request.receive)
            if _is_json(strict_request.headers.get("content-type")) and (
                await strict_request.body()  # an empty body is FastAPI's to refuse
            ):
                await strict_request.json()  # refusals raise here, as domain errors
            return await handler(strict_request)

        return strict

    def _query_names(self) -> frozenset[str]:
        """The query parameters the route declares, to FastAPI or in its openapi_extra
        (the deposit routes read `wait` themselves)."""
        names = {param.alias for param in self.dependant.query_params}
        for dependency in self.dependant.dependencies:
            names |= {param.alias for param in dependency.query_params}
        extra = (self.openapi_extra or {}).get("parameters", [])
        names |= {p["name"] for p in extra if p.get("in") == "query"}
        return frozenset(names)
