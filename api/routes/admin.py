"""Organizations and API keys: /v1/organizations, /v1/keys (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import Admin, Service
from api.errors import KEYED, documented
from api.schemas import KeyIn, KeyOut, OrganizationIn, OrganizationOut
from api.strict import StrictRoute
from notary.store.models import Role

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
    key = service.create_key(slug, body.label)
    return KeyOut(organization=key.organization.slug, prefix=key.prefix, api_key=key.secret)


@router.delete("/keys/{prefix}", status_code=204, responses=documented(404))
def delete_key(prefix: str, _: Admin, service: Service) -> Response:
    service.revoke_key(prefix)
    return Response(status_code=204)
