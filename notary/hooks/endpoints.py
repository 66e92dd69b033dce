"""Webhook endpoints of an organization: register, list, delete; their deliveries.

An organization sees and changes only its own endpoints: another's id answers NotFound,
as an unknown one does. The secret is returned by `register` only.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from notary.errors import NotFoundError, ValidationError, WebhookUrlError
from notary.hooks import events
from notary.hooks.signing import new_secret
from notary.store.db import transaction
from notary.store.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from notary.store.orgs import OrgView

MAX_URL_LENGTH: Final = 2048
MAX_ENDPOINTS: Final = 16
"""Live endpoints per organization: each one multiplies every event's messages."""
MAX_DESCRIPTION: Final = 256
MAX_DELIVERIES_LISTED: Final = 200


@dataclass(frozen=True)
class WebhookView:
    id: str
    url: str
    events: list[str]
    description: str
    created_at: datetime


@dataclass(frozen=True)
class NewWebhook:
    """A freshly registered endpoint. `secret` is the only copy shown: show it once."""

    endpoint: WebhookView
    secret: str


@dataclass(frozen=True)
class AttemptView:
    number: int
    at: datetime
    status_code: int | None
    error: str
    duration_ms: int
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class DeliveryView:
    id: str
    type: str
    status: str
    created_at: datetime
    next_attempt_at: datetime | None
    finished_at: datetime | None
    attempts: list[AttemptView]


def _now() -> datetime:
    return datetime.now(UTC)


def check_url(url: str) -> str:
    """The URL if messages may be sent to it: http or https, a host, no credentials, no
    fragment, at most MAX_URL_LENGTH characters. WebhookUrlError says what is wrong."""
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise WebhookUrlError("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlError(f"not a URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise WebhookUrlError("the URL must start with http:// or https://")
    if not parts.hostname:
        raise WebhookUrlError("the URL names no host")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlError("the URL must not contain credentials (user:password@)")
    if parts.fragment:
        raise WebhookUrlError("the URL must not contain a fragment (#...)")
    if port == 0:
        raise WebhookUrlError("the URL's port must be 1-65535")
    return url


def check_events(chosen: Sequence[str] | None) -> list[str]:
    """The event types subscribed to (all of them when none is named), without repeats."""
    if chosen is None:
        return list(events.EVENT_TYPES)
    unknown = [e for e in chosen if e not in events.EVENT_TYPES]
    if unknown:
        raise ValidationError(
            f"unknown event type {unknown[0]!r}; known: {', '.join(events.EVENT_TYPES)}"
        )
    if not chosen:
        raise ValidationError("events must name at least one event type")
    return list(dict.fromkeys(chosen))


def _view(row: WebhookEndpoint) -> WebhookView:
    created = row.created_at.replace(tzinfo=UTC)
    return WebhookView(row.public_id, row.url, list(row.events), row.description, created)


def _own(session: Session, org: OrgView, public_id: str) -> WebhookEndpoint:
    row = session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.public_id == public_id,
            WebhookEndpoint.organization_id == org.id,
            WebhookEndpoint.deleted_at.is_(None),
        )
    )
    if row is None:
        raise NotFoundError(f"no webhook endpoint {public_id}")
    return row


def register(
    factory: sessionmaker[Session],
    org: OrgView,
    url: str,
    chosen: Sequence[str] | None,
    description: str = "",
) -> NewWebhook:
    """A new endpoint of the organization, with a new secret."""
    check_url(url)
    subscribed = check_events(chosen)
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(f"the description is longer than {MAX_DESCRIPTION} characters")
    secret = new_secret()
    with transaction(factory) as session:
        live = session.scalar(
            select(func.count(WebhookEndpoint.id)).where(
                WebhookEndpoint.organization_id == org.id, WebhookEndpoint.deleted_at.is_(None)
            )
        )
        if (live or 0) >= MAX_ENDPOINTS:
            raise ValidationError(f"an organization may have at most {MAX_ENDPOINTS} endpoints")
        row = WebhookEndpoint(
            public_id="wh_" + secrets.token_hex(8),
            organization_id=org.id,
            url=url,
            events=subscribed,
            description=description,
            secret=secret,
            created_at=_now(),
        )
        session.add(row)
        session.flush()
        view = _view(row)
    return NewWebhook(view, secret)


def listing(factory: sessionmaker[Session], org: OrgView) -> list[WebhookView]:
    with transaction(factory) as session:
        rows = session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.organization_id == org.id, WebhookEndpoint.deleted_at.is_(None))
            .order_by(WebhookEndpoint.id)
        ).all()
        return [_view(r) for r in rows]


def delete(factory: sessionmaker[Session], org: OrgView, public_id: str) -> None:
    """Stop sending to the endpoint: its undelivered messages are given up; its history
    stays in the database."""
    with transaction(factory) as session:
        row = _own(session, org, public_id)
        now = _now()
        row.deleted_at = now
        session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.endpoint_id == row.id,
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
            )
            .values(status=DeliveryStatus.FAILED.value, finished_at=now, next_attempt_at=None)
        )


def ping(factory: sessionmaker[Session], org: OrgView, public_id: str) -> DeliveryView:
    """Queue a webhook.ping message to the endpoint (sent by the delivery loop)."""
    with transaction(factory) as session:
        row = _own(session, org, public_id)
        now = _now()
        delivery = WebhookDelivery(
            public_id=events.new_message_id(),
            endpoint_id=row.id,
            type=events.PING,
            data={"endpoint_id": row.public_id},
            created_at=now,
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now,
        )
        session.add(delivery)
        session.flush()
        return _delivery_view(delivery, [])


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


def _delivery_view(row: WebhookDelivery, attempts: Sequence[WebhookAttempt]) -> DeliveryView:
    return DeliveryView(
        id=row.public_id,
        type=row.type,
        status=row.status,
        created_at=row.created_at.replace(tzinfo=UTC),
        next_attempt_at=_utc(row.next_attempt_at)
        if row.status == DeliveryStatus.PENDING.value
        else None,
        finished_at=_utc(row.finished_at),
        attempts=[
            AttemptView(
                a.number,
                a.at.replace(tzinfo=UTC),
                a.status_code,
                a.error,
                a.duration_ms,
                _utc(a.next_attempt_at),
            )
            for a in attempts
        ],
    )


def deliveries(
    factory: sessionmaker[Session],
    org: OrgView,
    public_id: str,
    limit: int = 50,
    status: str | None = None,
) -> list[DeliveryView]:
    """The endpoint's newest messages (at most `limit`), each with every attempt made."""
    limit = max(1, min(limit, MAX_DELIVERIES_LISTED))
    with transaction(factory) as session:
        endpoint = _own(session, org, public_id)
        query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        rows = session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)).all()
        by_delivery: dict[int, list[WebhookAttempt]] = {r.id: [] for r in rows}
        if rows:
            for attempt in session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id.in_(list(by_delivery)))
                .order_by(WebhookAttempt.id)
            ):
                by_delivery[attempt.delivery_id].append(attempt)
        return [_delivery_view(r, by_delivery[r.id]) for r in rows]
