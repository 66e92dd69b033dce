"""Sharing evidence with another organization for a case, and the access log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import Depositor, Reader, Service, Where
from api.errors import KEYED, documented
from api.schemas import AccessEntryOut, SharedItemOut, SharedPageOut, ShareIn, ShareOut
from api.strict import StrictRoute
from notary.share.shares import MAX_PAGE

router = APIRouter(
    prefix="/v1",
    tags=["sharing"],
    route_class=StrictRoute,
    responses=documented(*KEYED, 413, 422, 503),
)


@router.post(
    "/evidence/{evidence_id}/shares",
    response_model=ShareOut,
    status_code=201,
    summary="Share your evidence with another organization for a case",
    responses=documented(404, 409),
)
def create_share(
    evidence_id: str, body: ShareIn, org: Depositor, service: Service, where: Where
) -> ShareOut:
    """The grantee (a court, a regulator, another studio; not an admin) then reads the
    evidence through the same routes as you, until the share expires or you revoke it.
    Every access is recorded in the evidence's access log."""
    share = service.share(org, evidence_id, body.grantee, body.case_ref, body.expires_at, where)
    return ShareOut.of(share)


@router.get(
    "/evidence/{evidence_id}/shares",
    response_model=list[ShareOut],
    summary="The shares of your evidence (active, expired, revoked), oldest first",
    responses=documented(404),
)
def list_shares(evidence_id: str, org: Depositor, service: Service) -> list[ShareOut]:
    return [ShareOut.of(s) for s in service.shares(org, evidence_id)]


@router.delete(
    "/shares/{share_id}",
    status_code=204,
    summary="Revoke a share of your evidence (at once)",
    responses=documented(404),
)
def revoke_share(share_id: str, org: Depositor, service: Service, where: Where) -> Response:
    service.revoke_share(org, share_id, where)
    return Response(status_code=204)


@router.get(
    "/shared",
    response_model=SharedPageOut,
    summary="Evidence shared with your organization (active shares), newest first",
)
def shared_with_me(
    org: Reader,
    service: Service,
    where: Where,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
) -> SharedPageOut:
    """Read each with the evidence routes (/v1/evidence/{id}, /certificate, /file,
    /bundle). Listing is recorded in each item's access log (action `list`)."""
    page = service.shared_with(org, limit, cursor, where)
    return SharedPageOut(
        items=[SharedItemOut.of(i) for i in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/evidence/{evidence_id}/access-log",
    response_model=list[AccessEntryOut],
    summary="Who read this evidence, what, when, from where (owner and active grantees)",
    responses=documented(404),
)
def access_log(evidence_id: str, org: Reader, service: Service) -> list[AccessEntryOut]:
    """Append-only. The owner sees every entry; a grantee its own, the owner's and the
    keyless lookups'. Reads of evidence that was never shared are not recorded."""
    return [AccessEntryOut.of(e) for e in service.access_log(org, evidence_id)]
