"""Listing and searching a tenant's own evidence (cursor pagination, newest first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from notary.errors import ValidationError
from notary.orgs import OrgView
from notary.store.db import transaction
from notary.store.models import Evidence, EvidenceStatus, EvidenceTag
from notary.views import EvidenceView, summary

MAX_PAGE: Final = 500


@dataclass(frozen=True)
class Query:
    sha256: bytes | None = None
    since: datetime | None = None
    until: datetime | None = None
    tag: str | None = None
    status: str | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class Page:
    items: list[EvidenceView]
    next_cursor: str | None


def _cursor(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or len(value) > 18:
        raise ValidationError("cursor is not one this service issued")
    return int(value)


def search(factory: sessionmaker[Session], org: OrgView, query: Query) -> Page:
    if not 1 <= query.limit <= MAX_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE}")
    if query.status is not None and query.status not in {s.value for s in EvidenceStatus}:
        raise ValidationError("status must be pending, batched or anchored")
    stmt = select(Evidence).where(Evidence.organization_id == org.id)
    if query.sha256 is not None:
        stmt = stmt.where(Evidence.sha256 == query.sha256)
    if query.since is not None:
        stmt = stmt.where(Evidence.received_at >= query.since)
    if query.until is not None:
        stmt = stmt.where(Evidence.received_at < query.until)
    if query.status is not None:
        stmt = stmt.where(Evidence.status == query.status)
    if query.tag is not None:
        stmt = stmt.where(
            Evidence.id.in_(select(EvidenceTag.evidence_id).where(EvidenceTag.tag == query.tag))
        )
    after = _cursor(query.cursor)
    if after is not None:
        stmt = stmt.where(Evidence.id < after)
    with transaction(factory) as session:
        rows = session.scalars(stmt.order_by(Evidence.id.desc()).limit(query.limit + 1)).all()
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        return Page([summary(r) for r in rows], str(rows[-1].id) if more and rows else None)
