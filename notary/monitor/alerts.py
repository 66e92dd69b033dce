"""Alerts: what the owner of a watched design sees of a capture that matched it.

Only the design's owner sees an alert (anyone else gets the same NotFoundError as for an
id that does not exist). Through the alert, and only through it, the owner may read the
capture's thumbnail and certificate: the capture stays the finder's evidence otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from notary.errors import ConflictError, NotFoundError, ValidationError
from notary.issue.search import MAX_PAGE, stored_time
from notary.store.db import transaction
from notary.store.models import (
    Alert,
    AlertStatus,
    Batch,
    BatchStatus,
    Capture,
    Evidence,
    Organization,
    Role,
)
from notary.store.orgs import OrgView

STATUSES: Final = tuple(s.value for s in AlertStatus)


@dataclass(frozen=True)
class Side:
    """One of the two pieces of evidence of an alert."""

    evidence_id: str
    sha256: bytes
    received_at: datetime
    anchored_at: int | None
    """Block time of its final anchor (Unix seconds); None until anchored."""
    block_number: int | None


@dataclass(frozen=True)
class AlertView:
    public_id: str
    status: str
    created_at: datetime
    status_at: datetime | None
    kind: str
    distance: int
    design: Side
    design_name: str
    capture_id: str
    capture: Side
    source_url: str
    shop: str
    price: str
    captured_at: datetime


@dataclass(frozen=True)
class AlertPage:
    items: list[AlertView]
    next_cursor: str | None


@dataclass(frozen=True)
class AlertParts:
    """Who owns what in an alert: to read each side's file or certificate as its owner."""

    owner: OrgView
    design_id: str
    finder: OrgView
    capture_evidence_id: str


_Design = aliased(Evidence)
_Shot = aliased(Evidence)
_DesignBatch = aliased(Batch)
_ShotBatch = aliased(Batch)


def _query() -> Select[Alert, Capture, Evidence, Evidence, Batch, Batch]:
    return (
        select(Alert, Capture, _Design, _Shot, _DesignBatch, _ShotBatch)
        .join(Capture, Capture.id == Alert.capture_id)
        .join(_Design, _Design.id == Alert.design_id)
        .join(_Shot, _Shot.id == Capture.evidence_id)
        .outerjoin(
            _DesignBatch,
            (_DesignBatch.id == _Design.batch_id)
            & (_DesignBatch.status == BatchStatus.ANCHORED.value),
        )
        .outerjoin(
            _ShotBatch,
            (_ShotBatch.id == _Shot.batch_id) & (_ShotBatch.status == BatchStatus.ANCHORED.value),
        )
    )


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _side(e: Evidence, batch: Batch | None) -> Side:
    return Side(
        e.public_id,
        e.sha256,
        _utc(e.received_at),
        batch.block_time if batch is not None else None,
        batch.block_number if batch is not None else None,
    )


def _view(
    alert: Alert,
    capture: Capture,
    design: Evidence,
    shot: Evidence,
    design_batch: Batch | None,
    shot_batch: Batch | None,
) -> AlertView:
    return AlertView(
        alert.public_id,
        alert.status,
        _utc(alert.created_at),
        _utc(alert.status_at) if alert.status_at is not None else None,
        alert.kind,
        alert.distance,
        _side(design, design_batch),
        str(design.metadata_json.get("name", "")),
        capture.public_id,
        _side(shot, shot_batch),
        capture.source_url,
        capture.shop,
        capture.price,
        _utc(capture.captured_at),
    )


def _cursor(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise ValidationError("cursor is not one this service issued")
    return int(value)


def listing(
    factory: sessionmaker[Session],
    org: OrgView,
    *,
    status: str | None = None,
    design_id: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> AlertPage:
    """The caller's alerts, newest first, filtered; paginated as GET /v1/evidence."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE}")
    if status is not None and status not in STATUSES:
        raise ValidationError(f"status must be one of {', '.join(STATUSES)}")
    stmt = _query().where(Alert.organization_id == org.id)
    if status is not None:
        stmt = stmt.where(Alert.status == status)
    if design_id is not None:
        stmt = stmt.where(_Design.public_id == design_id)
    if since is not None:
        stmt = stmt.where(Alert.created_at >= stored_time(since))
    after = _cursor(cursor)
    if after is not None:
        stmt = stmt.where(Alert.id < after)
    with transaction(factory) as session:
        rows = list(session.execute(stmt.order_by(Alert.id.desc()).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        return AlertPage(
            [_view(*row) for row in rows], str(rows[-1][0].id) if more and rows else None
        )


def _owned(session: Session, org: OrgView, public_id: str) -> Alert:
    alert = session.scalar(select(Alert).where(Alert.public_id == public_id))
    if alert is None or alert.organization_id != org.id:
        raise NotFoundError(f"no alert {public_id!r}")  # another's looks absent
    return alert


def get(factory: sessionmaker[Session], org: OrgView, public_id: str) -> AlertView:
    with transaction(factory) as session:
        alert = _owned(session, org, public_id)
        (row,) = list(session.execute(_query().where(Alert.id == alert.id)))
        return _view(*row)


TRANSITIONS: Final = {
    AlertStatus.ACKNOWLEDGED.value: {AlertStatus.NEW.value, AlertStatus.ACKNOWLEDGED.value},
    AlertStatus.DISMISSED.value: {
        AlertStatus.NEW.value,
        AlertStatus.ACKNOWLEDGED.value,
        AlertStatus.DISMISSED.value,
    },
}
"""Allowed moves: new -> acknowledged -> dismissed (new -> dismissed too); repeating a move
changes nothing; a dismissed alert cannot be acknowledged again (ConflictError)."""


def set_status(
    factory: sessionmaker[Session], org: OrgView, public_id: str, status: str
) -> AlertView:
    with transaction(factory) as session:
        alert = _owned(session, org, public_id)
        if alert.status not in TRANSITIONS[status]:
            raise ConflictError(f"alert {public_id} is {alert.status}; it cannot become {status}")
        if alert.status != status:
            alert.status = status
            alert.status_at = datetime.now(UTC)
    return get(factory, org, public_id)


def _org(row: Organization) -> OrgView:
    return OrgView(row.id, row.slug, row.name, Role(row.role))


def parts(factory: sessionmaker[Session], org: OrgView, public_id: str) -> AlertParts:
    """The alert's two sides and their owners; NotFoundError unless `org` owns the alert."""
    with transaction(factory) as session:
        alert = _owned(session, org, public_id)
        capture = session.get_one(Capture, alert.capture_id)
        design = session.get_one(Evidence, alert.design_id)
        shot = session.get_one(Evidence, capture.evidence_id)
        finder = session.get_one(Organization, capture.organization_id)
        owner = session.get_one(Organization, alert.organization_id)
        return AlertParts(_org(owner), design.public_id, _org(finder), shot.public_id)
