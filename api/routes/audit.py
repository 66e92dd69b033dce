"""Audit: what the chain says was anchored. Read from the chain, never from our database."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from api.deps import Auditor, Service
from api.errors import KEYED, documented
from api.schemas import AuditAnchorOut, ZonedDateTime
from api.strict import StrictRoute
from notary.core.leaf import parse_hex32
from notary.verify.audit import MAX_AUDIT_PAGE, AuditedAnchor
from notary.verify.export import CSV_MEDIA_TYPE, record, to_csv

router = APIRouter(
    prefix="/v1/audit",
    tags=["audit"],
    route_class=StrictRoute,
    responses=documented(*KEYED, 413, 422, 502, 503),
)


def _out(entry: AuditedAnchor) -> AuditAnchorOut:
    return AuditAnchorOut.model_validate(record(entry))


_CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The anchors as JSON, or as CSV (header row; the columns of the JSON "
        "fields) with `format=csv` or `Accept: text/csv`.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


def _wants_csv(request: Request, format_: str | None) -> bool:
    if format_ is not None:
        return format_ == "csv"
    accept = request.headers.get("accept", "")
    return any(part.split(";")[0].strip() == "text/csv" for part in accept.split(","))


@router.get(
    "/anchors",
    response_model=list[AuditAnchorOut],
    summary="Anchors by sequence range, or by block-time range (since/until), from the chain",
    responses=_CSV,
)
def anchors(
    request: Request,
    _: Auditor,
    service: Service,
    first: Annotated[int, Query(ge=1)] = 1,
    count: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE)] = 100,
    since: Annotated[
        ZonedDateTime | None, Query(description="Block time from (inclusive), with a zone.")
    ] = None,
    until: Annotated[
        ZonedDateTime | None, Query(description="Block time to (exclusive), with a zone.")
    ] = None,
    format_: Annotated[
        Literal["json", "csv"] | None,
        Query(alias="format", description="json (default) or csv; also Accept: text/csv."),
    ] = None,
) -> Any:  # noqa: ANN401 (a list of AuditAnchorOut, or a CSV Response)
    if since is None and until is None:
        found = service.anchors_by_sequence(first, count)
    else:
        # whole seconds (block time >= 10.5 is >= 11, < 10.5 is < 11); before 1970 is 0
        start = max(0, math.ceil(since.timestamp())) if since else 0
        end = max(0, math.ceil(until.timestamp())) if until else 2**63
        found = service.anchors_by_time(start, end, count)
    entries = service.audited(found)
    if _wants_csv(request, format_):
        return Response(
            to_csv(entries),
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="anchors.csv"'},
        )
    return [_out(e) for e in entries]


@router.get(
    "/anchors/{root}",
    response_model=AuditAnchorOut,
    summary="One anchor by root",
    responses=documented(404),
)
def anchor(
    root: Annotated[str, Path(pattern=r"^(0x)?[0-9a-fA-F]{64}$")], _: Auditor, service: Service
) -> AuditAnchorOut:
    return _out(service.audited([service.anchor_of(parse_hex32("root", root))])[0])
