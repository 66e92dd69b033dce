"""Webhooks over real HTTP: a real uvicorn server with its anchoring process (which
delivers), a real receiver, the real devnet and IPFS node.

Covers registration and its refusals, isolation between organizations, an anchored and a
pinned message checked by notary.client.verify_webhook (which shares no code with the
signer) against the API's own view of the evidence, and a flaky endpoint retried, every
attempt listed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from notary import errors
from notary.client import verify_webhook
from tests.api.conftest import Server, start_server, wait_for
from tests.api.receiver import Receiver

pytestmark = pytest.mark.devnet

PUBLIC_URL = "https://notary.example/base/"


@pytest.fixture(scope="module")
def hooked(chain, tmp_path_factory) -> Iterator[Server]:
    """A server whose webhook retries come fast (0.2 s base, 1 s at most)."""
    running, server, thread = start_server(
        chain,
        tmp_path_factory.mktemp("webhooks"),
        batcher=True,
        public_url=PUBLIC_URL,
        webhook_retry_base_seconds=0.2,
        webhook_retry_max_seconds=1.0,
        webhook_timeout_seconds=2.0,
    )
    yield running
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    served = Receiver().start()
    yield served
    served.shutdown()
    served.server_close()


def _error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_register_refuse_list_delete_and_isolation(hooked: Server) -> None:
    with hooked.client() as studio, hooked.client("copycat") as copycat:
        for bad in (
            "ftp://studio.example/hook",
            "http://user:pw@studio.example/hook",
            "http:///no-host",
            "https://studio.example/hook#part",
            "https://studio.example/" + "a" * 2100,
            "https://studio.example/with space",
            "not a url",
        ):
            _error(studio.post("/v1/webhooks", json={"url": bad}), 422, "invalid_webhook_url")
        _error(
            studio.post(
                "/v1/webhooks", json={"url": "https://a.example/", "events": ["evidence.eaten"]}
            ),
            422,
            "invalid_input",
        )
        _error(
            studio.post("/v1/webhooks", json={"url": "https://a.example/", "events": []}),
            422,
            "invalid_input",
        )
        assert studio.get("/v1/webhooks").json() == []  # nothing was stored by the refusals

        made = studio.post(
            "/v1/webhooks",
            json={"url": "https://a.example/h", "events": ["evidence.pinned"], "description": "d"},
        )
        assert made.status_code == 201, made.text
        created = made.json()
        assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
        assert created["events"] == ["evidence.pinned"]
        everything = studio.post("/v1/webhooks", json={"url": "http://b.example:8080/"}).json()
        assert set(everything["events"]) == {
            "evidence.anchored",
            "evidence.reanchored",
            "evidence.pinned",
            "evidence.pin_failed",
            "share.accessed",
            "alert.created",
        }
        assert everything["secret"] != created["secret"]

        listed = studio.get("/v1/webhooks")
        assert [w["id"] for w in listed.json()] == [created["id"], everything["id"]]
        assert "whsec_" not in listed.text and "secret" not in listed.text
        assert created["secret"] not in studio.get(f"/v1/webhooks/{created['id']}/deliveries").text

        # another organization sees none of them and can touch none of them
        assert copycat.get("/v1/webhooks").json() == []
        _error(copycat.delete(f"/v1/webhooks/{created['id']}"), 404, "not_found")
        _error(copycat.get(f"/v1/webhooks/{created['id']}/deliveries"), 404, "not_found")
        _error(copycat.post(f"/v1/webhooks/{created['id']}/test"), 404, "not_found")
        with hooked.client("court") as court:
            _error(court.get("/v1/webhooks"), 403, "forbidden")
        with hooked.client(None) as anyone:
            _error(anyone.get("/v1/webhooks"), 401, "unauthorized")

        assert studio.delete(f"/v1/webhooks/{created['id']}").status_code == 204
        _error(studio.delete(f"/v1/webhooks/{created['id']}"), 404, "not_found")
        assert studio.delete(f"/v1/webhooks/{everything['id']}").status_code == 204
        assert studio.get("/v1/webhooks").json() == []


def test_anchored_and_pinned_messages_are_signed_and_match_the_evidence(
    hooked: Server, receiver: Receiver
) -> None:
    with hooked.client() as studio:
        hook = studio.post("/v1/webhooks", json={"url": receiver.url + "/studio"}).json()
        data = b"webhook design " + str(time.time()).encode()
        deposited = studio.post(
            "/v1/evidence",
            params={"wait": 30},
            files={"file": ("hook.png", data, "image/png")},
        )
        assert deposited.status_code == 201, deposited.text
        evidence_id = deposited.json()["id"]

        def of(type_: str) -> list[dict[str, Any]]:
            return [
                m
                for m in receiver.messages("/studio")
                if json.loads(m["body"])["type"] == type_
                and json.loads(m["body"])["data"]["evidence_id"] == evidence_id
            ]

        anchored = wait_for(lambda: of("evidence.anchored"), "evidence.anchored", 120)[0]
        evidence = studio.get(f"/v1/evidence/{evidence_id}").json()
        assert evidence["status"] == "anchored"  # the message came after the change
        document = verify_webhook(hook["secret"], anchored["headers"], anchored["body"])
        assert document["id"] == anchored["headers"]["webhook-id"]
        body = document["data"]
        assert body["sha256"] == hashlib.sha256(data).hexdigest() == evidence["sha256"]
        anchor = evidence["anchor"]
        assert body["anchor"]["tx_hash"] == anchor["tx_hash"]
        assert body["anchor"]["block_number"] == anchor["block_number"]
        assert body["certificate_path"] == evidence["certificate_url"]
        assert body["certificate_url"] == PUBLIC_URL.rstrip("/") + evidence["certificate_url"]
        certificate = studio.get(body["certificate_path"]).json()
        assert body["anchor"]["root"] == certificate["anchor"]["root"]
        assert body["anchor"]["chain_id"] == certificate["anchor"]["chain_id"]

        pinned = wait_for(lambda: of("evidence.pinned"), "evidence.pinned", 120)[0]
        pin = verify_webhook(hook["secret"], pinned["headers"], pinned["body"])["data"]
        assert pin["cid"] == evidence["ipfs"]["cid"]

        # what a receiver must refuse
        headers, raw = anchored["headers"], anchored["body"]
        with pytest.raises(errors.WebhookVerificationError, match="signature"):
            verify_webhook(hook["secret"], headers, raw.replace(b"anchored", b"anchorex"))
        other = studio.post("/v1/webhooks", json={"url": receiver.url + "/other"}).json()
        with pytest.raises(errors.WebhookVerificationError, match="signature"):
            verify_webhook(other["secret"], headers, raw)
        with pytest.raises(errors.WebhookVerificationError, match="away from now"):
            verify_webhook(hook["secret"], headers, raw, now=time.time() + 301)
        with pytest.raises(errors.WebhookVerificationError, match="missing"):
            verify_webhook(hook["secret"], {"webhook-id": headers["webhook-id"]}, raw)

        # the delivery is listed with its one successful attempt
        listed = studio.get(f"/v1/webhooks/{hook['id']}/deliveries").json()
        mine = next(d for d in listed if d["id"] == document["id"])
        assert mine["status"] == "delivered" and mine["type"] == "evidence.anchored"
        assert [(a["number"], a["status_code"], a["error"]) for a in mine["attempts"]] == [
            (1, 200, "")
        ]
        for h in (hook, other):
            assert studio.delete(f"/v1/webhooks/{h['id']}").status_code == 204


def test_a_failing_endpoint_is_retried_with_backoff_and_every_attempt_listed(
    hooked: Server, receiver: Receiver
) -> None:
    receiver.failures["/flaky"] = 3
    with hooked.client("copycat") as client:
        hook = client.post("/v1/webhooks", json={"url": receiver.url + "/flaky"}).json()
        queued = client.post(f"/v1/webhooks/{hook['id']}/test")
        assert queued.status_code == 202, queued.text
        ping = queued.json()
        assert ping["type"] == "webhook.ping" and ping["status"] == "pending"

        def delivered() -> dict[str, Any] | None:
            listed = client.get(f"/v1/webhooks/{hook['id']}/deliveries").json()
            return next((d for d in listed if d["status"] == "delivered"), None)

        done = wait_for(delivered, "the ping after three failures", 30)
        assert done["id"] == ping["id"] and done["next_attempt_at"] is None
        attempts = done["attempts"]
        assert [(a["number"], a["status_code"]) for a in attempts] == [
            (1, 500),
            (2, 500),
            (3, 500),
            (4, 200),
        ]
        assert all(a["error"] == "HTTP 500" for a in attempts[:3])
        for failed in attempts[:3]:
            assert failed["next_attempt_at"] is not None
            assert failed["next_attempt_at"] >= failed["at"]
        assert attempts[3]["next_attempt_at"] is None
        # every attempt carried the same message id, each with a valid signature
        seen = receiver.messages("/flaky")
        assert [m["answered"] for m in seen] == [500, 500, 500, 200]
        assert {m["headers"]["webhook-id"] for m in seen} == {ping["id"]}
        for m in seen:
            assert verify_webhook(hook["secret"], m["headers"], m["body"])["type"] == "webhook.ping"
        # a filter by status lists only those
        assert (
            client.get(f"/v1/webhooks/{hook['id']}/deliveries", params={"status": "failed"}).json()
            == []
        )
        assert client.delete(f"/v1/webhooks/{hook['id']}").status_code == 204
