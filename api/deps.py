"""Dependencies: the service, and the calling organization checked for a role.

Each protected route has a single dependency that reads the API key straight from the
request headers: FastAPI's cost grows with each declared dependency and header parameter
(dropping three dependencies and two parameters from the deposit route saved 35-70 us a
request, measured in-process, where a bare endpoint costs about 60 us in all). The bearer
scheme is declared in the OpenAPI document by api.main instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from notary.errors import ForbiddenError, PermissionDeniedError
from notary.service import NotaryService
from notary.store.models import Role
from notary.store.orgs import OrgView


def service_of(request: Request) -> NotaryService:
    service: NotaryService = request.app.state.service
    return service


async def get_service(request: Request) -> NotaryService:
    return service_of(request)


Service = Annotated[NotaryService, Depends(get_service)]


async def caller(request: Request) -> OrgView:
    """The organization of the presented API key (`Authorization: Bearer nk_...`, or the
    `X-API-Key` header).

    A key checked in the last NOTARY_KEY_CACHE_SECONDS answers from memory; otherwise the
    database is read in a worker thread. Then the organization's rate limit, if one is set
    (NOTARY_RATE_LIMIT_PER_SECOND), is charged one request.
    """
    presented = request.headers.get("x-api-key")
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise PermissionDeniedError("use `Authorization: Bearer <API key>`")
        presented = token
    if not presented:
        raise PermissionDeniedError("an API key is required")
    service = service_of(request)
    org = service.keys.cached(presented)
    if org is None:
        org = await run_in_threadpool(service.keys.authenticate, presented)
    if service.limiter is not None:
        service.limiter.take(org.id)
    return org


AUTHENTICATED: set[Callable[[Request], Awaitable[OrgView]]] = set()
"""The dependencies that check an API key (api.main documents them as the bearer scheme)."""


def _require(*roles: Role) -> Callable[[Request], Awaitable[OrgView]]:
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
Auditor = Annotated[OrgView, Depends(_require(Role.AUDITOR, Role.ADMIN))]
Admin = Annotated[OrgView, Depends(_require(Role.ADMIN))]
