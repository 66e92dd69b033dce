"""Webhook delivery is at least once across kill -9 of the service and of the receiver.

A real `notary serve` (its anchoring process delivers) and a real receiver process that
fsyncs each message before answering 2xx. Deposits flow all along; the receiver is killed
-9 while messages are under way, the service is killed -9 while its outbox holds
undelivered messages (checked in the database), both come back, the service is killed -9
once more while it delivers. Then every acknowledged deposit's evidence.anchored message
must be in the receiver's log with a valid signature; duplicates are allowed and carry
the same webhook-id.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from notary.client import verify_webhook
from notary.hooks import backlog
from notary.store.db import database_url, make_engine, make_sessionmaker, transaction
from tests.api.receiver import read_log
from tests.conftest import free_port
from tests.e2e.conftest import Depositor, ServiceProcess

pytestmark = pytest.mark.devnet

RECEIVER = str(Path(__file__).parents[1] / "api" / "receiver.py")
SETTLE_SECONDS = 90.0


def _receiver(port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, RECEIVER, str(port), str(log)])
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, "no receiver"
            time.sleep(0.05)


def _kill9(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _until(condition: Callable[[], object], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.05)


def test_every_anchored_message_arrives_across_kill9(chain, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "received.jsonl"
    log.touch()
    receiver = _receiver(port, log)
    service = ServiceProcess(
        chain,
        tmp_path / "service",
        NOTARY_WEBHOOK_RETRY_BASE_SECONDS="0.2",
        NOTARY_WEBHOOK_RETRY_MAX_SECONDS="1",
        NOTARY_WEBHOOK_TIMEOUT_SECONDS="2",
    )
    key = service.depositor_key()
    service.start()
    engine = make_engine(database_url(tmp_path / "service", None))
    store = make_sessionmaker(engine)

    def waiting() -> int:
        with transaction(store) as session:
            return backlog(session)

    # bursts of 20 hashes about every 2.5 s (written when a steady flow kept every batch
    # from becoming final; the batcher now confirms as it goes, the pacing stays)
    depositor = Depositor(service.url, key, "hook", pause=2.5, per_wake=4, timeout=10)
    try:
        with httpx.Client(base_url=service.url, timeout=30) as c:
            made = c.post(
                "/v1/webhooks",
                headers={"Authorization": f"Bearer {key}"},
                json={"url": f"http://127.0.0.1:{port}/hook", "events": ["evidence.anchored"]},
            )
        assert made.status_code == 201, made.text
        secret = made.json()["secret"]
        depositor.start()
        _until(lambda: read_log(str(log)), "a first message delivered", 90)

        _kill9(receiver)  # while deposits are anchored and their messages go out
        _until(lambda: waiting() > 0, "messages waiting for the dead receiver")
        service.kill9()  # with undelivered messages in the outbox
        pending_at_kill = waiting()
        assert pending_at_kill > 0

        before = len(read_log(str(log)))
        receiver = _receiver(port, log)
        service.start()
        _until(lambda: len(read_log(str(log))) > before, "delivery after the restart", 90)
        service.kill9()  # again, this time while it delivers
        service.start()
        time.sleep(3.0)  # one more burst of deposits
        depositor.halt.set()
        depositor.join(timeout=30)
        acknowledged = depositor.snapshot()
        assert len(acknowledged) > 20

        def arrived() -> dict[str, list[str]]:
            """Webhook ids that reached the receiver, by evidence id; each checked."""
            found: dict[str, list[str]] = {}
            for record in read_log(str(log)):
                document = verify_webhook(secret, record["headers"], record["body"], 3600)
                assert document["id"] == record["headers"]["webhook-id"]
                assert document["type"] == "evidence.anchored"
                found.setdefault(document["data"]["evidence_id"], []).append(document["id"])
            return found

        _until(
            lambda: acknowledged <= set(arrived()),
            "every acknowledged deposit's message",
            SETTLE_SECONDS,
        )
        delivered = arrived()
        repeats = sum(len(ids) - 1 for ids in delivered.values())
        for ids in delivered.values():
            assert len(set(ids)) == 1, "a deposit got two different messages"
        print(
            f"{len(acknowledged)} deposits acknowledged, {pending_at_kill} messages waiting "
            f"at the kill, {repeats} delivered twice (same webhook-id)"
        )
        _until(lambda: waiting() == 0, "an empty outbox")
    finally:
        depositor.halt.set()
        depositor.client.close()
        service.stop()
        if receiver.poll() is None:
            receiver.terminate()
            receiver.wait(timeout=30)
        engine.dispose()
