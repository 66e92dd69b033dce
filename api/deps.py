"""Dependencies: the service, the calling organization, and role requirements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from notary.errors import ForbiddenError, PermissionDeniedError
from notary.orgs import OrgView, authenticate
from notary.service import NotaryService
from notary.store.models import Role


def get_service(request: Request) -> NotaryService:
    service: NotaryService = request.app.state.service
    return service


Service = Annotated[NotaryService, Depends(get_service)]


def current_org(
    service: Service,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> OrgView:
    """The organization of the presented API key (`Authorization: Bearer nk_...`)."""
    presented = x_api_key
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise PermissionDeniedError("use `Authorization: Bearer <API key>`")
        presented = token
    if not presented:
        raise PermissionDeniedError("an API key is required")
    return authenticate(service.factory, presented)


Caller = Annotated[OrgView, Depends(current_org)]


def _require(*roles: Role) -> Callable[[OrgView], OrgView]:
    def check(org: Caller) -> OrgView:
        if org.role not in roles:
            raise ForbiddenError(f"role {org.role.value} may not do this")
        return org

    return check


Depositor = Annotated[OrgView, Depends(_require(Role.DEPOSITOR))]
Auditor = Annotated[OrgView, Depends(_require(Role.AUDITOR, Role.ADMIN))]
Admin = Annotated[OrgView, Depends(_require(Role.ADMIN))]
