"""Dependencies: the service, the calling organization, and role requirements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool

from notary.errors import ForbiddenError, PermissionDeniedError
from notary.orgs import OrgView
from notary.service import NotaryService
from notary.store.models import Role


async def get_service(request: Request) -> NotaryService:
    service: NotaryService = request.app.state.service
    return service


Service = Annotated[NotaryService, Depends(get_service)]


async def current_org(
    service: Service,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> OrgView:
    """The organization of the presented API key (`Authorization: Bearer nk_...`).

    A key checked in the last NOTARY_KEY_CACHE_SECONDS answers from memory; otherwise the
    database is read in a worker thread. (Dependencies here are async so that a deposit
    never waits for a free worker thread just to pass its checks.)
    """
    presented = x_api_key
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise PermissionDeniedError("use `Authorization: Bearer <API key>`")
        presented = token
    if not presented:
        raise PermissionDeniedError("an API key is required")
    org = service.keys.cached(presented)
    if org is None:
        org = await run_in_threadpool(service.keys.authenticate, presented)
    return org


Caller = Annotated[OrgView, Depends(current_org)]


def _require(*roles: Role) -> Callable[[OrgView], Awaitable[OrgView]]:
    async def check(org: Caller) -> OrgView:
        if org.role not in roles:
            raise ForbiddenError(f"role {org.role.value} may not do this")
        return org

    return check


Depositor = Annotated[OrgView, Depends(_require(Role.DEPOSITOR))]
Auditor = Annotated[OrgView, Depends(_require(Role.AUDITOR, Role.ADMIN))]
Admin = Annotated[OrgView, Depends(_require(Role.ADMIN))]
