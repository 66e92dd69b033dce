"""Audit: what the chain says was anchored. Read from the chain, never from our database."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import Auditor, Service
from api.errors import KEYED, documented
from api.schemas import AuditAnchorOut, ZonedDateTime
from api.strict import StrictRoute
from notary.chain.registry import OnChainAnchor
from notary.core.leaf import parse_hex32
from notary.verify.audit import MAX_AUDIT_PAGE

router = APIRouter(
    prefix="/v1/audit",
    tags=["audit"],
    route_class=StrictRoute,
    responses=documented(*KEYED, 413, 422, 502, 503),
)


def _out(a: OnChainAnchor) -> AuditAnchorOut:
    return AuditAnchorOut(
        root="0x" + a.root.hex(),
        sequence=a.sequence,
        notary=a.notary,
        leaf_count=a.leaf_count,
        block_number=a.block_number,
        block_time=a.timestamp,
        log_head="0x" + a.log_head.hex(),
        manifest=a.manifest,
    )


@router.get(
    "/anchors",
    response_model=list[AuditAnchorOut],
    summary="Anchors by sequence range, or by block-time range (since/until), from the chain",
)
def anchors(
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
) -> list[AuditAnchorOut]:
    if since is None and until is None:
        return [_out(a) for a in service.anchors_by_sequence(first, count)]
    # whole seconds (block time >= 10.5 is >= 11, < 10.5 is < 11); before 1970 is 0
    start = max(0, math.ceil(since.timestamp())) if since else 0
    end = max(0, math.ceil(until.timestamp())) if until else 2**63
    return [_out(a) for a in service.anchors_by_time(start, end, count)]


@router.get(
    "/anchors/{root}",
    response_model=AuditAnchorOut,
    summary="One anchor by root",
    responses=documented(404),
)
def anchor(
    root: Annotated[str, Path(pattern=r"^(0x)?[0-9a-fA-F]{64}$")], _: Auditor, service: Service
) -> AuditAnchorOut:
    return _out(service.anchor_of(parse_hex32("root", root)))
