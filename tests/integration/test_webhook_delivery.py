"""The webhook outbox and its deliverer on SQLite and PostgreSQL, over real sockets:
messages commit with their caller's transaction or not at all, a claim left by a killed
deliverer is released and sent again, an endpoint that never answers is given up after
the give-up period with every attempt recorded."""

from __future__ import annotations

import random
import time

import pytest
from sqlalchemy import func, select

from notary.client import verify_webhook
from notary.hooks import backlog, enqueue, events
from notary.hooks.delivery import Deliverer, RetryPolicy
from notary.hooks.endpoints import deliveries, register
from notary.store.db import transaction
from notary.store.models import DeliveryStatus, Role, WebhookDelivery
from notary.store.orgs import create_organization
from tests.api.receiver import Receiver
from tests.conftest import free_port

FAST = RetryPolicy(base_seconds=0.01, max_seconds=0.05, give_up_seconds=3.0)


@pytest.fixture
def receiver():
    served = Receiver().start()
    yield served
    served.shutdown()
    served.server_close()


def _count(store) -> int:
    with transaction(store) as session:
        return int(session.scalar(select(func.count(WebhookDelivery.id))) or 0)


def test_messages_commit_with_the_state_change_or_not_at_all(store) -> None:
    org = create_organization(store, "studio", "Studio", Role.DEPOSITOR)
    with transaction(store) as session:  # no endpoint: nothing is written
        assert enqueue(session, org.id, events.PINNED, {"evidence_id": "ev_1"}) == 0
    pinned_only = register(store, org, "http://127.0.0.1:9/p", [events.PINNED])
    register(store, org, "http://127.0.0.1:9/a", None)
    with pytest.raises(RuntimeError), transaction(store) as session:
        assert enqueue(session, org.id, events.PINNED, {"evidence_id": "ev_1"}) == 2
        raise RuntimeError("the state change failed")
    assert _count(store) == 0
    with transaction(store) as session:
        assert enqueue(session, org.id, events.ANCHORED, {"evidence_id": "ev_1"}) == 1
        assert enqueue(session, org.id, events.PINNED, {"evidence_id": "ev_1"}) == 2
    assert _count(store) == 3
    with transaction(store) as session:
        assert backlog(session) == 3
    assert [d.type for d in deliveries(store, org, pinned_only.endpoint.id)] == [events.PINNED]


def test_a_claim_left_by_a_killed_deliverer_is_sent_again(store, receiver) -> None:
    org = create_organization(store, "studio", "Studio", Role.DEPOSITOR)
    hook = register(store, org, receiver.url + "/r", None)
    with transaction(store) as session:
        enqueue(session, org.id, events.PINNED, {"evidence_id": "ev_9", "cid": "bafy"})
    killed = Deliverer(store, "http://x", FAST)
    assert len(killed._claim()) == 1  # claimed, then the process died before sending
    successor = Deliverer(store, "http://x", FAST)
    assert successor.run_once() == 0  # claimed by the dead one: not due
    assert receiver.messages() == []
    assert successor.recover() == 1
    assert successor.run_once() == 1
    successor.close()
    (message,) = receiver.messages("/r")
    document = verify_webhook(hook.secret, message["headers"], message["body"])
    assert document["type"] == events.PINNED and document["data"]["cid"] == "bafy"
    (listed,) = deliveries(store, org, hook.endpoint.id)
    assert listed.status == DeliveryStatus.DELIVERED.value
    assert [(a.number, a.status_code) for a in listed.attempts] == [(1, 200)]
    with transaction(store) as session:
        assert backlog(session) == 0


def test_an_endpoint_that_never_answers_is_given_up(store) -> None:
    org = create_organization(store, "studio", "Studio", Role.DEPOSITOR)
    hook = register(store, org, f"http://127.0.0.1:{free_port()}/gone", None)
    with transaction(store) as session:
        enqueue(session, org.id, events.ANCHORED, {"evidence_id": "ev_2"})
    deliverer = Deliverer(store, "http://x", FAST, timeout_seconds=1)
    deadline = time.monotonic() + 30
    while True:
        deliverer.run_once()
        (listed,) = deliveries(store, org, hook.endpoint.id)
        if listed.status != DeliveryStatus.PENDING.value:
            break
        assert time.monotonic() < deadline, "never given up"
        time.sleep(0.02)
    deliverer.close()
    assert listed.status == DeliveryStatus.FAILED.value and listed.finished_at is not None
    assert len(listed.attempts) >= 2
    assert [a.number for a in listed.attempts] == list(range(1, len(listed.attempts) + 1))
    assert all(a.status_code is None and "ConnectError" in a.error for a in listed.attempts)
    assert all(a.next_attempt_at is not None for a in listed.attempts[:-1])
    assert listed.attempts[-1].next_attempt_at is None
    for attempt in listed.attempts[:-1]:  # no retry was scheduled past the give-up age
        assert attempt.next_attempt_at is not None
        scheduled = (attempt.next_attempt_at - listed.created_at).total_seconds()
        assert scheduled <= FAST.give_up_seconds
    with transaction(store) as session:
        assert backlog(session) == 0


def test_backoff_grows_exponentially_with_full_jitter() -> None:
    policy = RetryPolicy(base_seconds=10, max_seconds=3600, give_up_seconds=3 * 86400)
    rng = random.Random(11)
    for failures in range(1, 40):
        ceiling = min(3600, 10 * 2 ** (failures - 1))
        samples = [policy.pause(failures, rng) for _ in range(200)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > 0.8 * ceiling  # the whole range is used: full jitter
        assert min(samples) < 0.2 * ceiling
