"""Dependencies: the service, and the calling organization checked for a role.

Each protected route has a single dependency that reads the API key straight from the
request headers: FastAPI's cost grows with each declared dependency and header parameter
(dropping three dependencies and two parameters from the deposit route saved 35-70 us a
request, measured in-process, where a bare endpoint costs about 60 us in all). The bearer
scheme is declared in the OpenAPI document by api.main instead.

The key is checked before the request body is read: api.strict runs a route's check
(`key_check`) first, and the organization found is kept in the request's scope, so the
check FastAPI or the route runs again costs a dictionary lookup (and the rate limit is
charged once).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Final, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute

from notary.errors import AuthenticationError, ForbiddenError
from notary.service import NotaryService
from notary.share.access import Origin
from notary.store.models import Role
from notary.store.orgs import KEY_PATTERN, OrgView


def service_of(request: Request) -> NotaryService:
    service: NotaryService = request.app.state.service
    return service


async def get_service(request: Request) -> NotaryService:
    return service_of(request)


Service = Annotated[NotaryService, Depends(get_service)]


_CALLER: Final = "notary.caller"
"""The request scope's entry for the organization `caller` found (once per request)."""


async def caller(request: Request) -> OrgView:
    """The organization of the presented API key (`Authorization: Bearer nk_...`, or the
    `X-API-Key` header).

    A key checked in the last NOTARY_KEY_CACHE_SECONDS answers from memory; otherwise the
    database is read in a worker thread. Then the organization's rate limit, if one is set
    (NOTARY_RATE_LIMIT_PER_SECOND), is charged one request. Asked again for the same
    request, the answer is the first one (api.strict checks before FastAPI does).
    """
    known: OrgView | None = request.scope.get(_CALLER)
    if known is not None:
        return known
    presented = request.headers.get("x-api-key")
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError("use `Authorization: Bearer <API key>`")
        presented = token
    if not presented:
        raise AuthenticationError("an API key is required")
    service = service_of(request)
    org = service.caller(presented)
    if org is None:
        org = await run_in_threadpool(service.authenticate, presented)
    service.admit(org)
    request.scope[_CALLER] = org
    return org


Check = Callable[[Request], Awaitable[OrgView]]
"""A key and role check: the organization allowed, or AuthenticationError/ForbiddenError."""

AUTHENTICATED: set[Check] = set()
"""The dependencies that check an API key (api.main documents them as the bearer scheme)."""

_CHECKED_BY_ENDPOINT: dict[Callable[..., Any], Check] = {}
"""Endpoints that run a check themselves (the deposit routes), and the check."""

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def checks_key(check: Check) -> Callable[[Endpoint], Endpoint]:
    """Mark an endpoint that runs `check` itself instead of declaring it as a dependency
    (which costs FastAPI time on the hot path), so that api.strict runs it before the body
    is read and api.main documents the key. Put it under the route decorator."""

    def mark(endpoint: Endpoint) -> Endpoint:
        _CHECKED_BY_ENDPOINT[endpoint] = check
        return endpoint

    return mark


def key_check(route: APIRoute) -> Check | None:
    """The key check of a route (declared as a dependency or marked by `checks_key`), or
    None for a route anyone may call."""
    for dependency in route.dependant.dependencies:
        if dependency.call in AUTHENTICATED:
            return dependency.call
    return _CHECKED_BY_ENDPOINT.get(route.endpoint)


def _require(*roles: Role) -> Check:
    async def check(request: Request) -> OrgView:
        org = await caller(request)
        if org.role not in roles:
            raise ForbiddenError(f"role {org.role.value} may not do this")
        return org

    AUTHENTICATED.add(check)
    return check


depositor = _require(Role.DEPOSITOR)
"""The depositor check, also called directly by the deposit routes (see api.routes.evidence)."""
Depositor = Annotated[OrgView, Depends(depositor)]
Reader = Annotated[
    OrgView, Depends(_require(Role.DEPOSITOR, Role.COURT, Role.REGULATOR, Role.AUDITOR))
]
"""Who reads evidence by id: its owner, or an organization it was shared with
(notary.share.access decides which evidence)."""
Auditor = Annotated[
    OrgView, Depends(_require(Role.AUDITOR, Role.ADMIN, Role.COURT, Role.REGULATOR))
]
Admin = Annotated[OrgView, Depends(_require(Role.ADMIN))]


def origin(request: Request) -> Origin:
    """Where a request came from, for the access log: the prefix of its API key (the
    secret part is never kept) and the client's address. The address is the one uvicorn
    reports: the peer's, or the X-Forwarded-For one when the peer is a trusted proxy
    (uvicorn's --forwarded-allow-ips / FORWARDED_ALLOW_IPS, 127.0.0.1 by default)."""
    presented = request.headers.get("x-api-key") or ""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        presented = authorization.partition(" ")[2]
    match = KEY_PATTERN.fullmatch(presented.strip())
    client = request.client
    return Origin(match.group(1) if match else None, client.host if client else None)


Where = Annotated[Origin, Depends(origin)]


Member = Annotated[OrgView, Depends(_require(*Role))]
"""Any organization with a valid key (the route decides what it may see)."""
