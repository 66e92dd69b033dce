"""Webhook events: what an organization can subscribe to, and the outbox rows that carry them.

Every event is enqueued inside the transaction that records the state change it reports
(the batcher's promotion to ANCHORED, the pinner's pinned/failed): the change and its
messages commit together or not at all, so a kill -9 can delay a message, never lose it.

A message's JSON body (rendered by `body`):

    {"id": "msg_...", "type": "evidence.anchored", "timestamp": "2026-11-22T01:02:03Z",
     "data": {...}}

`id` is also the `webhook-id` header and stays the same across attempts.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from notary.store.models import (
    Batch,
    DeliveryStatus,
    Evidence,
    Share,
    SupersededAnchor,
    WebhookDelivery,
    WebhookEndpoint,
)
from notary.store.orgs import OrgView

ANCHORED: Final = "evidence.anchored"
"""The evidence's anchor is final: its certificate can be fetched (certificate_url)."""
REANCHORED: Final = "evidence.reanchored"
"""An anchor of the evidence vanished from the chain; it is anchored again and final; the
earlier certificate is superseded (data.superseded lists the lost anchors)."""
PINNED: Final = "evidence.pinned"
"""The deposited file is pinned on IPFS under its recorded CID."""
PIN_FAILED: Final = "evidence.pin_failed"
"""Pinning the file failed for good (the spooled copy is kept for the operator)."""
SHARE_ACCESSED: Final = "share.accessed"
"""Another organization read shared evidence through its share, or someone looked its
certificate up by id and SHA-256 without a key (sent to the owner)."""
ALERT_CREATED: Final = "alert.created"
"""A capture matched one of the organization's watched designs (notary.monitor): the data
names the alert, the design, the distance and where the copy was found (alert_path; the
alert itself has both certificates and thumbnails). Enqueued in the transaction that
records the capture and its alerts."""
PING: Final = "webhook.ping"
"""Sent by POST /v1/webhooks/{id}/test only; cannot be subscribed to."""

EVENT_TYPES: Final = (ANCHORED, REANCHORED, PINNED, PIN_FAILED, SHARE_ACCESSED, ALERT_CREATED)
"""The event types an endpoint may subscribe to."""


def _now() -> datetime:
    return datetime.now(UTC)


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(12)


def certificate_path(public_id: str) -> str:
    return f"/v1/evidence/{public_id}/certificate"


def _subscribers(session: Session, type_: str, orgs: Iterable[int] | None) -> dict[int, list[int]]:
    """Live endpoints subscribed to `type_`, by organization (of `orgs`, or all)."""
    query = select(
        WebhookEndpoint.id, WebhookEndpoint.organization_id, WebhookEndpoint.events
    ).where(WebhookEndpoint.deleted_at.is_(None))
    if orgs is not None:
        query = query.where(WebhookEndpoint.organization_id.in_(set(orgs)))
    found: dict[int, list[int]] = {}
    for endpoint, org, events in session.execute(query).all():
        if type_ in events or type_ == PING:
            found.setdefault(org, []).append(endpoint)
    return found


def _insert(
    session: Session,
    type_: str,
    items: Iterable[tuple[int, dict[str, object]]],
    endpoints: dict[int, list[int]],
) -> int:
    now = _now()
    rows = [
        {
            "public_id": new_message_id(),
            "endpoint_id": endpoint,
            "type": type_,
            "data": data,
            "created_at": now,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
        }
        for org, data in items
        for endpoint in endpoints.get(org, ())
    ]
    if rows:
        session.execute(insert(WebhookDelivery), rows)
    return len(rows)


def enqueue(session: Session, org_id: int, type_: str, data: dict[str, object]) -> int:
    """Add a message of `type_` for every live endpoint of the organization subscribed to it,
    in the caller's transaction; returns how many rows were added (0 without endpoints)."""
    endpoints = _subscribers(session, type_, [org_id])
    return _insert(session, type_, [(org_id, data)], endpoints)


def enqueue_many(session: Session, type_: str, items: list[tuple[int, dict[str, object]]]) -> int:
    """`enqueue` for several (organization, data) messages of one type: one lookup of the
    subscribers and one INSERT for all of them (a capture's alerts)."""
    if not items:
        return 0
    endpoints = _subscribers(session, type_, sorted({org for org, _ in items}))
    return _insert(session, type_, items, endpoints)


def _hex(value: bytes | None) -> str | None:
    return None if value is None else "0x" + value.hex()


def anchor_data(batch: Batch) -> dict[str, object]:
    """The anchor of a batch as a message carries it (the certificate's anchor fields)."""
    return {
        "chain_id": batch.chain_id,
        "registry": batch.registry_address,
        "root": _hex(batch.root),
        "sequence": batch.sequence,
        "tx_hash": _hex(batch.tx_hash),
        "block_number": batch.block_number,
        "block_hash": _hex(batch.block_hash),
        "block_time": batch.block_time,
    }


def batch_anchored(session: Session, batch: Batch) -> int:
    """Messages for every deposit of a batch whose anchor just became final: evidence.anchored,
    or evidence.reanchored when an earlier anchor of the batch was lost. Reads the batch's
    deposits only when some endpoint subscribes to the event."""
    lost = session.scalars(
        select(SupersededAnchor)
        .where(SupersededAnchor.batch_id == batch.id)
        .order_by(SupersededAnchor.id)
    ).all()
    type_ = REANCHORED if lost else ANCHORED
    endpoints = _subscribers(session, type_, None)
    if not endpoints:
        return 0
    anchor = anchor_data(batch)
    superseded = [
        {
            "tx_hash": _hex(old.tx_hash),
            "block_number": old.block_number,
            "block_hash": _hex(old.block_hash),
            "reason": old.reason,
        }
        for old in lost
    ]
    rows = session.execute(
        select(Evidence.public_id, Evidence.organization_id, Evidence.sha256, Evidence.kind)
        .where(Evidence.batch_id == batch.id, Evidence.organization_id.in_(set(endpoints)))
        .order_by(Evidence.id)
    ).all()
    items = []
    for public_id, org, sha256, kind in rows:
        data: dict[str, object] = {
            "evidence_id": public_id,
            "sha256": sha256.hex(),
            "kind": kind,
            "anchor": anchor,
            "certificate_path": certificate_path(public_id),
        }
        if lost:
            data["superseded"] = superseded
        items.append((org, data))
    return _insert(session, type_, items, endpoints)


def pin_result(session: Session, evidence: Evidence, error: str | None) -> int:
    """evidence.pinned (error None) or evidence.pin_failed for a file deposit."""
    data: dict[str, object] = {
        "evidence_id": evidence.public_id,
        "sha256": evidence.sha256.hex(),
        "cid": evidence.cid,
    }
    if error is not None:
        data["error"] = error
    return enqueue(session, evidence.organization_id, PIN_FAILED if error else PINNED, data)


def share_accessed(
    session: Session,
    evidence: Evidence,
    share: Share | None,
    reader: OrgView | None,
    action: str,
    at: datetime,
) -> int:
    """share.accessed for the owner of `evidence`: `reader` (None for the keyless public
    lookup) read it through `share` (None for that lookup). Written in the transaction that
    appends the access-log entry, so the message exists exactly when the entry does."""
    data: dict[str, object] = {
        "evidence_id": evidence.public_id,
        "sha256": evidence.sha256.hex(),
        "action": action,
        "at": at.replace(tzinfo=UTC, microsecond=0).isoformat().replace("+00:00", "Z"),
        "by": None if reader is None else {"organization": reader.slug, "name": reader.name},
        "share_id": None if share is None else share.public_id,
        "case_ref": None if share is None else share.case_ref,
    }
    return enqueue(session, evidence.organization_id, SHARE_ACCESSED, data)


def body(delivery: WebhookDelivery, public_url: str) -> bytes:
    """The JSON body of a message; the same bytes at every attempt. A `certificate_path`
    (`alert_path`) in the data gets its absolute `certificate_url` (`alert_url`) beside it
    (NOTARY_PUBLIC_URL)."""
    data = dict(delivery.data)
    for key in ("certificate", "alert"):
        path = data.get(f"{key}_path")
        if isinstance(path, str):
            data[f"{key}_url"] = public_url.rstrip("/") + path
    created = delivery.created_at.replace(tzinfo=UTC, microsecond=0)
    document = {
        "id": delivery.public_id,
        "type": delivery.type,
        "timestamp": created.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def backlog(session: Session) -> int:
    """Messages not delivered yet and not given up (due now or waiting for a retry): the
    webhook backlog a metrics gauge shows."""
    count = session.scalar(
        select(func.count(WebhookDelivery.id)).where(
            WebhookDelivery.status == DeliveryStatus.PENDING.value
        )
    )
    return int(count or 0)
