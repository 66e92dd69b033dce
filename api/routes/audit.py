"""Audit: what the chain says was anchored. Read from the chain, never from our database."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Auditor, Service
from api.schemas import AuditAnchorOut
from notary.chain.registry import OnChainAnchor
from notary.core.leaf import parse_hex32
from notary.errors import NotFoundError, ValidationError

router = APIRouter(prefix="/v1/audit", tags=["audit"])

MAX_AUDIT_PAGE = 1000


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
    summary="Anchors by sequence range (1-based), from the registry's views",
)
def anchors(
    _: Auditor,
    service: Service,
    first: Annotated[int, Query(ge=1)] = 1,
    count: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE)] = 100,
) -> list[AuditAnchorOut]:
    reader = service.writer
    total = reader.anchor_count()
    out = []
    for sequence in range(first, min(total, first + count - 1) + 1):
        out.append(_out(reader.anchor_of(reader.root_at(sequence))))
    return out


@router.get("/anchors/{root}", response_model=AuditAnchorOut, summary="One anchor by root")
def anchor(root: str, _: Auditor, service: Service) -> AuditAnchorOut:
    try:
        value = parse_hex32("root", root)
    except ValidationError:
        raise
    record = service.writer.anchor_of(value)
    if record.sequence == 0:
        raise NotFoundError(f"root {root} is not anchored in {service.writer.address}")
    return _out(record)
