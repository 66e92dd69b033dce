"""Captures: a suspect image found elsewhere, deposited as the finder's evidence, matched
against every watched design; each match becomes an alert for the design's owner.

The capture row, its alerts and their alert.created webhook messages are inserted by the
deposit's hook (notary.deposit.request.OnCreated), in the transaction that records the
capture's evidence: an acknowledged capture never loses its alerts, and a capture that
fails records none.

Privacy: the finder learns at most `matched: true`, and only when every matched design's
owner allows disclosure (watch list `disclose_to_finders`). `false` is never said: were it
said for "no match", silence would tell the finder that some owner keeps a match private.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, cast
from urllib.parse import urlsplit

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session, sessionmaker

from notary.core.leaf import Metadata
from notary.errors import ConflictError, MetadataError
from notary.hooks import events
from notary.issue.search import stored_time
from notary.monitor import watch
from notary.monitor.watcher import Match
from notary.store.db import transaction
from notary.store.models import Alert, AlertStatus, Capture, Evidence
from notary.store.orgs import OrgView

_ALERTS = cast(Table, Alert.__table__)
MAX_URL_LENGTH: Final = 2048
MAX_SHOP_LENGTH: Final = 256
MAX_PRICE_LENGTH: Final = 64
CAPTURE_FIELDS: Final = ("source_url", "shop", "price", "captured_at")
"""The capture's own metadata fields, written into its evidence metadata (so the anchored
leaf commits to where and when it was found)."""


@dataclass(frozen=True)
class CaptureInfo:
    source_url: str
    shop: str
    price: str
    captured_at: datetime
    metadata: Metadata
    """The capture's evidence metadata: what was declared, with the fields above."""


def _text(declared: Metadata, key: str, limit: int) -> str:
    value = declared.get(key, "")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > limit or not value.isprintable():
        raise MetadataError(f"metadata.{key}", f"must be text of at most {limit} characters")
    return value


def capture_info(declared: Metadata, now: datetime | None = None) -> CaptureInfo:
    """The capture fields of the declared metadata, checked: `source_url` (http or https,
    required), `shop`, `price` (text), `captured_at` (RFC 3339 with a zone, not in the
    future; default: now)."""
    url = _text(declared, "source_url", MAX_URL_LENGTH)
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise MetadataError("metadata.source_url", "an http or https URL is required")
    shop = _text(declared, "shop", MAX_SHOP_LENGTH)
    price = _text(declared, "price", MAX_PRICE_LENGTH)
    now = now or datetime.now(UTC)
    given = declared.get("captured_at")
    if given is None:
        at = now
    else:
        if not isinstance(given, str):
            raise MetadataError("metadata.captured_at", "must be an RFC 3339 time")
        try:
            at = datetime.fromisoformat(given.replace("Z", "+00:00"))
        except ValueError as exc:
            raise MetadataError("metadata.captured_at", "must be an RFC 3339 time") from exc
        if at.tzinfo is None:
            raise MetadataError("metadata.captured_at", "needs a zone (Z or +08:00)")
        if at > now:
            raise MetadataError("metadata.captured_at", "is in the future")
        at = at.astimezone(UTC)
    stamp = at.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    metadata = dict(declared)
    metadata.update(source_url=url, captured_at=stamp)
    if shop:
        metadata["shop"] = shop
    if price:
        metadata["price"] = price
    return CaptureInfo(url, shop, price, at, metadata)


def alert_path(public_id: str) -> str:
    return f"/v1/alerts/{public_id}"


@dataclass
class Recording:
    """The capture's hook (pass `record` to the deposit) and what it recorded."""

    finder: OrgView
    info: CaptureInfo
    matches: list[Match]
    capture_id: str = field(default_factory=lambda: "cap_" + secrets.token_hex(12))
    alerts: int = 0
    disclosed: bool | None = None
    """True when matched and every matched owner allows disclosure; None otherwise."""

    def record(self, session: Session, evidence_id: int) -> None:
        now = datetime.now(UTC)
        capture_row = session.execute(
            insert(Capture)
            .values(
                {
                    "public_id": self.capture_id,
                    "evidence_id": evidence_id,
                    "organization_id": self.finder.id,
                    "source_url": self.info.source_url,
                    "shop": self.info.shop,
                    "price": self.info.price,
                    "captured_at": stored_time(self.info.captured_at),
                    "created_at": now,
                }
            )
            .returning(Capture.id)
        ).scalar_one()
        if not self.matches:
            return
        wanted = {m.design_id: m for m in self.matches}
        designs = session.execute(
            select(Evidence.id, Evidence.public_id, Evidence.organization_id, Evidence.sha256)
            .where(Evidence.id.in_(list(wanted)))
            .order_by(Evidence.id)
        ).all()
        owners: set[int] = set()
        alerts: list[dict[str, object]] = []
        messages: list[tuple[int, dict[str, object]]] = []
        for design_id, design_public, owner, sha256 in designs:
            match = wanted[design_id]
            alert_id = "al_" + secrets.token_hex(12)
            alerts.append(
                {
                    "public_id": alert_id,
                    "organization_id": owner,
                    "design_id": design_id,
                    "capture_id": capture_row,
                    "kind": match.kind,
                    "distance": match.distance,
                    "status": AlertStatus.NEW.value,
                    "created_at": now,
                }
            )
            messages.append(
                (
                    owner,
                    {
                        "alert_id": alert_id,
                        "design_id": design_public,
                        "design_sha256": sha256.hex(),
                        "kind": match.kind,
                        "distance": match.distance,
                        "source_url": self.info.source_url,
                        "shop": self.info.shop,
                        "captured_at": self.info.metadata["captured_at"],
                        "alert_path": alert_path(alert_id),
                    },
                )
            )
            owners.add(owner)
        if alerts:  # one INSERT each for the alerts and their messages (the writer's thread
            # is the one every deposit waits for: a statement per alert cost it most)
            session.execute(insert(_ALERTS), alerts)
            events.enqueue_many(session, events.ALERT_CREATED, messages)
            self.alerts += len(alerts)
        if owners:
            self.disclosed = (
                all(
                    owner == self.finder.id or watch.read(session, owner).disclose_to_finders
                    for owner in owners
                )
                or None
            )


@dataclass(frozen=True)
class CaptureView:
    """What the finder is told about its capture."""

    capture_id: str
    evidence_id: str
    created: bool
    source_url: str
    shop: str
    price: str
    captured_at: datetime
    matched: bool | None


def existing(factory: sessionmaker[Session], org: OrgView, evidence_public_id: str) -> CaptureView:
    """The finder's earlier capture of the same bytes (sent again: no new alerts).

    NotFoundError cannot happen for the caller's own evidence; a ConflictError says that
    the bytes were deposited as ordinary evidence, not as a capture."""
    with transaction(factory) as session:
        row = session.execute(
            select(Capture)
            .join(Evidence, Evidence.id == Capture.evidence_id)
            .where(Evidence.public_id == evidence_public_id, Capture.organization_id == org.id)
        ).scalar_one_or_none()
        if row is None:
            raise ConflictError(
                f"this file is already your evidence {evidence_public_id}, not a capture"
            )
        return CaptureView(
            row.public_id,
            evidence_public_id,
            False,
            row.source_url,
            row.shop,
            row.price,
            row.captured_at.replace(tzinfo=UTC),
            None,
        )
