"""The delivery loop: sends due outbox messages, records every attempt, retries, gives up.

Runs as a thread of the anchoring process (notary.anchoring.assembly), which exists once
per database (it holds the anchoring locks), so one deliverer owns the outbox. Its state
is only in the database:

- a message is claimed (claimed_at set, committed) before it is sent, and marked
  delivered only after a 2xx answer, in the transaction that records the attempt. A
  process killed between the two leaves the claim; the next deliverer releases every
  claim at start (`recover`) and sends those messages again: at least once, never lost;
- a failed attempt (no answer within NOTARY_WEBHOOK_TIMEOUT_SECONDS, a transport error, a
  non-2xx status, a redirect) schedules the next after a pause drawn uniformly from
  [0, min(max, base * 2^(n-1))] ("full jitter", so endpoints that came back are not hit by
  every sender at once), until the message is NOTARY_WEBHOOK_GIVE_UP_SECONDS old: then
  it is failed and no longer sent.

Messages are sent WORKERS at a time, CLAIM per round (a round ends when its slowest
attempt does: an endpoint that never answers slows delivery by its timeout per round, it
does not stop it) and may arrive out of order; each carries its event's own state, not a
delta.
"""

from __future__ import annotations

import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast

import httpx
from sqlalchemy import CursorResult, Result, select, update
from sqlalchemy.orm import Session, sessionmaker

from notary import __version__
from notary.hooks import events, signing
from notary.store.db import transaction
from notary.store.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = logging.getLogger("notary.hooks.delivery")

WORKERS: Final = 8
"""Messages sent at once."""
CLAIM: Final = 64
"""Messages claimed per round."""
ROUNDS: Final = 16
"""Rounds per cycle while full claims keep coming (a batch of 10,000 deposits)."""
MAX_ERROR: Final = 512


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, up to a give-up age."""

    base_seconds: float = 10.0
    max_seconds: float = 3600.0
    give_up_seconds: float = 3 * 24 * 3600.0

    def pause(self, failures: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the `failures`-th failed attempt."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** min(failures - 1, 62))
        return (rng or random).uniform(0, ceiling)


@dataclass(frozen=True)
class _Job:
    delivery_id: int
    message_id: str
    url: str
    secret: str
    body: bytes


@dataclass(frozen=True)
class _Outcome:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _now() -> datetime:
    return datetime.now(UTC)


def _changed(result: Result[Any]) -> int:
    """Rows an UPDATE changed."""
    return int(cast("CursorResult[Any]", result).rowcount or 0)


class Deliverer:
    """Sends the outbox of one database."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        public_url: str,
        policy: RetryPolicy,
        timeout_seconds: float = 10.0,
    ) -> None:
        self.factory = factory
        self.public_url = public_url
        self.policy = policy
        self.timeout_seconds = timeout_seconds
        self._http: httpx.Client | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._recovered = False

    def recover(self) -> int:
        """Release the claims a killed deliverer left: those messages are due again."""
        with transaction(self.factory) as session:
            released = _changed(
                session.execute(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.status == DeliveryStatus.PENDING.value,
                        WebhookDelivery.claimed_at.is_not(None),
                    )
                    .values(claimed_at=None, next_attempt_at=_now())
                )
            )
        if released:
            log.info("%s webhook messages left in flight are due again", released)
        return released

    def run_once(self) -> int:
        """Send what is due (CLAIM at a time, up to ROUNDS rounds); how many were delivered."""
        delivered = 0
        for _ in range(ROUNDS):
            jobs = self._claim()
            if not jobs:
                break
            pool = self._pool or ThreadPoolExecutor(WORKERS, thread_name_prefix="notary-webhook")
            self._pool = pool
            sending = {pool.submit(self._send, job): job for job in jobs}
            for done in as_completed(sending):  # each recorded as soon as it is answered
                outcome = done.result()
                self._record(sending[done], outcome)
                delivered += outcome.delivered
            if len(jobs) < CLAIM:
                break
        return delivered

    def cycle(self) -> None:
        """One round of the delivery loop (notary.anchoring.loops.run_with_backoff runs it;
        StorageError pauses it): release the claims a killed process left, once, then send
        what is due."""
        if not self._recovered:
            self.recover()
            self._recovered = True
        self.run_once()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._http is not None:
            self._http.close()

    def _claim(self) -> list[_Job]:
        now = _now()
        with transaction(self.factory) as session:
            due = session.execute(
                select(WebhookDelivery, WebhookEndpoint.url, WebhookEndpoint.secret)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(
                    WebhookDelivery.status == DeliveryStatus.PENDING.value,
                    WebhookDelivery.claimed_at.is_(None),
                    WebhookDelivery.next_attempt_at <= now,
                )
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(CLAIM)
            ).all()
            jobs = []
            for delivery, url, secret in due:
                claimed = _changed(
                    session.execute(
                        update(WebhookDelivery)
                        .where(
                            WebhookDelivery.id == delivery.id,
                            WebhookDelivery.claimed_at.is_(None),
                            WebhookDelivery.status == DeliveryStatus.PENDING.value,
                        )
                        .values(claimed_at=now)
                    )
                )
                if claimed:
                    body = events.body(delivery, self.public_url)
                    jobs.append(_Job(delivery.id, delivery.public_id, url, secret, body))
        return jobs

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(
                timeout=self.timeout_seconds,
                follow_redirects=False,
                headers={"user-agent": f"evidence-notary-webhooks/{__version__}"},
            )
        return self._http

    def _send(self, job: _Job) -> _Outcome:
        started = time.monotonic()
        headers = signing.headers(job.secret, job.message_id, int(time.time()), job.body)
        headers["content-type"] = "application/json"
        try:
            response = self._client().post(job.url, content=job.body, headers=headers)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
            return _Outcome(None, error, int((time.monotonic() - started) * 1000))
        elapsed = int((time.monotonic() - started) * 1000)
        code = response.status_code
        error = "" if 200 <= code < 300 else f"HTTP {code}"
        return _Outcome(code, error, elapsed)

    def _record(self, job: _Job, outcome: _Outcome) -> None:
        now = _now()
        with transaction(self.factory) as session:
            row = session.get(WebhookDelivery, job.delivery_id)
            assert row is not None
            row.attempts += 1
            row.claimed_at = None
            upcoming: datetime | None = None
            if row.status != DeliveryStatus.PENDING.value:
                pass  # the endpoint was deleted meanwhile: only the attempt is recorded
            elif outcome.delivered:
                row.status, row.finished_at, row.next_attempt_at = (
                    DeliveryStatus.DELIVERED.value,
                    now,
                    None,
                )
            else:
                upcoming = now + timedelta(seconds=self.policy.pause(row.attempts))
                created = row.created_at.replace(tzinfo=UTC)
                if upcoming - created > timedelta(seconds=self.policy.give_up_seconds):
                    upcoming = None
                    row.status, row.finished_at = DeliveryStatus.FAILED.value, now
                row.next_attempt_at = upcoming
            session.add(
                WebhookAttempt(
                    delivery_id=row.id,
                    number=row.attempts,
                    at=now,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    duration_ms=outcome.duration_ms,
                    next_attempt_at=upcoming,
                )
            )
        if not outcome.delivered:
            log.info("webhook %s attempt failed: %s", job.message_id, outcome.error)
