"""Organizations and API keys: /v1/organizations, /v1/keys.

Admins only, but for listing keys: an organization may list its own (prefixes, dates,
state; never a secret), so a studio can see which of its keys are still used. Creating,
rotating and revoking stay with the admin: a leaked key that could rotate itself would
outlive its own revocation.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response

from api.deps import Admin, Member, Service
from api.errors import KEYED, documented
from api.schemas import (
    KeyIn,
    KeyInfoOut,
    KeyOut,
    OrganizationIn,
    OrganizationOut,
    RotateIn,
)
from api.strict import StrictRoute
from notary.store.models import Role
from notary.store.orgs import KeyInfo, NewKey

router = APIRouter(
    prefix="/v1",
    tags=["admin"],
    route_class=StrictRoute,
    responses=documented(*KEYED, 413, 422, 503),
)


@router.post(
    "/organizations", response_model=OrganizationOut, status_code=201, responses=documented(409)
)
def add_organization(body: OrganizationIn, _: Admin, service: Service) -> OrganizationOut:
    org = service.create_organization(body.slug, body.name, Role(body.role))
    return OrganizationOut(slug=org.slug, name=org.name, role=org.role.value)


@router.get("/organizations", response_model=list[OrganizationOut])
def organizations(_: Admin, service: Service) -> list[OrganizationOut]:
    return [
        OrganizationOut(slug=o.slug, name=o.name, role=o.role.value)
        for o in service.organizations()
    ]


@router.post(
    "/organizations/{slug}/keys", response_model=KeyOut, status_code=201, responses=documented(404)
)
def add_key(slug: str, body: KeyIn, _: Admin, service: Service) -> KeyOut:
    """A new key; `api_key` is shown in this answer only."""
    return _new(service.create_key(slug, body.label, body.expires_at, body.expires_in))


@router.get(
    "/organizations/{slug}/keys", response_model=list[KeyInfoOut], responses=documented(404)
)
def list_keys(slug: str, caller: Member, service: Service) -> list[KeyInfoOut]:
    """The organization's keys, oldest first (an admin: any organization's; others: their own)."""
    return [_info(k) for k in service.keys_of(caller, slug)]


@router.post(
    "/keys/{prefix}/rotate",
    response_model=KeyOut,
    status_code=201,
    responses=documented(404, 409),
)
def rotate_key(prefix: str, _: Admin, service: Service, body: RotateIn | None = None) -> KeyOut:
    """A new key for the same organization; the old one keeps working for `grace_seconds`
    (default 24 h), then answers 401 key_expired. 409 for a revoked key."""
    body = body or RotateIn()
    return _new(
        service.rotate_key(
            prefix,
            timedelta(seconds=body.grace_seconds),
            body.label,
            body.expires_at,
            body.expires_in,
        )
    )


@router.delete("/keys/{prefix}", status_code=204, responses=documented(404))
def delete_key(prefix: str, _: Admin, service: Service) -> Response:
    service.revoke_key(prefix)
    return Response(status_code=204)


def _new(key: NewKey) -> KeyOut:
    return KeyOut(
        organization=key.organization.slug,
        prefix=key.prefix,
        api_key=key.secret,
        expires_at=key.expires_at,
    )


def _info(key: KeyInfo) -> KeyInfoOut:
    return KeyInfoOut(
        organization=key.organization,
        prefix=key.prefix,
        label=key.label,
        state=key.state(),
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
    )
