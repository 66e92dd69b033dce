"""Listing and searching a tenant's own evidence (cursor pagination, newest first)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from notary.deposit.metadata import INDEXED_FIELDS
from notary.errors import ValidationError
from notary.issue.views import EvidenceView, summary
from notary.store.db import transaction
from notary.store.models import (
    Batch,
    BatchStatus,
    Evidence,
    EvidenceField,
    EvidenceStatus,
    EvidenceTag,
)
from notary.store.orgs import OrgView

MAX_PAGE: Final = 500
AWAITING: Final = BatchStatus.AWAITING_ENDORSEMENT.value


class ListStatus(StrEnum):
    """What `status` may filter on: the stored statuses (EvidenceStatus), and
    awaiting_endorsement (batched evidence whose batch waits for the consortium's endorsers,
    shown with that status). The API declares this enum in its OpenAPI document."""

    PENDING = EvidenceStatus.PENDING.value
    BATCHED = EvidenceStatus.BATCHED.value
    AWAITING_ENDORSEMENT = AWAITING
    CONFIRMING = EvidenceStatus.CONFIRMING.value
    ANCHORED = EvidenceStatus.ANCHORED.value


LIST_STATUSES: Final = tuple(s.value for s in ListStatus)
_CURSOR: Final = re.compile(r"[0-9]{1,18}")
"""A cursor is the id of the last row of a page: ASCII digits only (str.isdigit() also
accepts "²" and "١", which int() then refuses)."""


@dataclass(frozen=True)
class Query:
    sha256: bytes | None = None
    since: datetime | None = None
    until: datetime | None = None
    tag: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    """(field, value) pairs that must all match: fields of INDEXED_FIELDS, exact values."""
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
    if not _CURSOR.fullmatch(value):
        raise ValidationError("cursor is not one this service issued")
    return int(value)


def stored_time(at: datetime) -> datetime:
    """`at` as the database stores times: naive UTC. A time with no zone is refused (it
    would mean whatever zone the server runs in); one beyond the range of datetime once
    moved to UTC (year 1 east of Greenwich, year 9999 west) is clamped to that range."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValidationError("times need a zone: end them with Z or an offset such as +08:00")
    try:
        return at.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        return datetime.min if at.year == datetime.min.year else datetime.max


def search(factory: sessionmaker[Session], org: OrgView, query: Query) -> Page:
    if not 1 <= query.limit <= MAX_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE}")
    if query.status is not None and query.status not in LIST_STATUSES:
        raise ValidationError(f"status must be one of {', '.join(LIST_STATUSES)}")
    stmt = select(Evidence).where(Evidence.organization_id == org.id)
    if query.sha256 is not None:
        stmt = stmt.where(Evidence.sha256 == query.sha256)
    if query.since is not None:
        stmt = stmt.where(Evidence.received_at >= stored_time(query.since))
    if query.until is not None:
        stmt = stmt.where(Evidence.received_at < stored_time(query.until))
    if query.status is not None:
        awaiting = select(Batch.id).where(Batch.status == AWAITING)
        if query.status == AWAITING:
            stmt = stmt.where(
                Evidence.status == EvidenceStatus.BATCHED.value, Evidence.batch_id.in_(awaiting)
            )
        else:
            stmt = stmt.where(Evidence.status == query.status)
        if query.status == EvidenceStatus.BATCHED.value:  # as the views show them
            stmt = stmt.where(Evidence.batch_id.not_in(awaiting))
    if query.tag is not None:
        stmt = stmt.where(
            Evidence.id.in_(select(EvidenceTag.evidence_id).where(EvidenceTag.tag == query.tag))
        )
    for name, value in query.fields:
        if name not in INDEXED_FIELDS:
            raise ValidationError(f"searchable metadata fields are {', '.join(INDEXED_FIELDS)}")
        stmt = stmt.where(
            Evidence.id.in_(
                select(EvidenceField.evidence_id).where(
                    EvidenceField.name == name, EvidenceField.value == value
                )
            )
        )
    after = _cursor(query.cursor)
    if after is not None:
        stmt = stmt.where(Evidence.id < after)
    with transaction(factory) as session:
        rows = session.scalars(stmt.order_by(Evidence.id.desc()).limit(query.limit + 1)).all()
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        return Page([summary(r) for r in rows], str(rows[-1].id) if more and rows else None)
