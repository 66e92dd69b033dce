"""Keyless lookup of a certificate by evidence id and the file's SHA-256 (for clerks)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.deps import Service
from api.errors import documented
from api.strict import StrictRoute
from notary.core import certificate as cert_format

router = APIRouter(
    prefix="/v1/public",
    tags=["public"],
    route_class=StrictRoute,
    responses=documented(404, 422, 429, 503),
)


@router.get(
    "/certificates/{evidence_id}",
    summary="A certificate, given its evidence id and the file's SHA-256 (no key)",
    responses={200: {"content": {"application/json": {}}}},
)
def public_certificate(
    evidence_id: str,
    request: Request,
    service: Service,
    sha256: Annotated[
        str | None, Query(description="SHA-256 of the file, 64 hex digits.", max_length=66)
    ] = None,
) -> Response:
    """The current certificate, only when the id and the hash both match evidence anchored
    in a final block (the clerk has the id from the paper certificate and the hash from
    the file). Anything else, an unknown id, another or malformed hash, evidence not
    anchored yet, is the same 404. Each client address may make
    NOTARY_PUBLIC_LOOKUP_BURST lookups at once and NOTARY_PUBLIC_LOOKUP_PER_SECOND a
    second after that (429 with Retry-After)."""
    remote = request.client.host if request.client else None
    cert = service.public_certificate(evidence_id, sha256, remote)
    return Response(
        cert_format.dumps(cert),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
