"""GET /metrics, request ids, JSON logs and the access log, against a real `notary serve`
(API process and anchoring process, NOTARY_LOG_FORMAT=json) on the session devnet."""

from __future__ import annotations

import io
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from notary.client import NotaryClient
from notary.ops.logs import TextFormatter
from tests.api.conftest import ServedProcess, serve_process, start_server, stop_process

pytestmark = pytest.mark.devnet

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str, **headers: str) -> Samples:
    """Every sample of GET /metrics, parsed by prometheus_client's own parser."""
    r = httpx.get(url + "/metrics", headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def hashes(n: int) -> list[str]:
    return [os.urandom(32).hex() for _ in range(n)]


@pytest.fixture(scope="module")
def served_json(chain, tmp_path_factory) -> Iterator[ServedProcess]:
    # slow requests are logged by design; a loaded test machine must not make them all slow
    running = serve_process(
        chain,
        tmp_path_factory.mktemp("metrics"),
        NOTARY_LOG_FORMAT="json",
        NOTARY_SLOW_REQUEST_SECONDS="60",
    )
    yield running
    stop_process(running)


def log_lines(served: ServedProcess) -> list[str]:
    return [line for line in served.log.read_text("utf-8").splitlines() if line.strip()]


def test_series_move_as_deposits_are_made_and_anchored(served_json: ServedProcess) -> None:
    before = scrape(served_json.url)
    with served_json.client() as c:
        r = c.post(
            "/v1/evidence/hashes",
            json={"items": [{"sha256": h} for h in hashes(3)]},
            params={"wait": 30},
        )
        assert r.status_code == 201, r.text
        assert {i["status"] for i in r.json()["items"]} == {"anchored"}
        f = c.post("/v1/evidence", files={"file": ("a.bin", os.urandom(1000))}, params={"wait": 30})
        assert f.status_code == 201, f.text
        assert f.json()["status"] == "anchored"
        evidence = f.json()["id"]
        deadline = time.monotonic() + 30
        while c.get(f"/v1/evidence/{evidence}").json()["ipfs"]["pin_state"] == "pending":
            assert time.monotonic() < deadline, "the file was not pinned"
            time.sleep(0.1)
    after = scrape(served_json.url)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - before.get((name, tuple(sorted(labels.items()))), 0.0)

    assert grew("notary_deposits_total", kind="hash") == 3
    assert grew("notary_deposits_total", kind="file") == 1
    assert grew("notary_batch_size_count") >= 1  # one batch or two
    assert grew("notary_batch_size_sum") == 4
    assert grew("notary_anchor_latency_seconds_count") == grew("notary_batch_size_count")
    assert grew("notary_anchor_latency_seconds_sum") > 0
    assert value(after, "notary_anchor_latency_seconds_bucket", le="+Inf") == value(
        after, "notary_anchor_latency_seconds_count"
    )
    for status in ("pending", "batched", "confirming"):
        assert value(after, "notary_deposits_waiting", status=status) == 0
    assert value(after, "notary_pins", state="pending") == 0
    for part in ("database", "chain", "registry", "ipfs"):
        assert value(after, "notary_up", part=part) == 1, part
    assert value(after, "notary_anchoring_up") == 1
    assert value(after, "process_resident_memory_bytes") > 0


def test_waiting_deposits_show_while_nothing_anchors(chain, tmp_path) -> None:
    """No anchoring process: deposits wait, the oldest ages, anchoring is down; a token
    guards the series when set."""
    running, server, thread = start_server(
        chain, tmp_path, batcher=False, metrics_token=SecretStr("scrape-me")
    )
    try:
        assert httpx.get(running.url + "/metrics").status_code == 401
        wrong = httpx.get(running.url + "/metrics", headers={"Authorization": "Bearer no"})
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"]
        token = {"Authorization": "Bearer scrape-me"}
        before = scrape(running.url, **token)
        assert value(before, "notary_deposits_waiting", status="pending") == 0
        assert value(before, "notary_oldest_pending_deposit_seconds") == 0
        with running.client() as c:
            for sha in hashes(2):
                assert c.post("/v1/evidence/hash", json={"sha256": sha}).status_code == 201
        time.sleep(0.05)
        after = scrape(running.url, **token)
        assert value(after, "notary_deposits_waiting", status="pending") == 2
        assert value(after, "notary_oldest_pending_deposit_seconds") > 0
        assert value(after, "notary_anchoring_up") == 0
        assert value(after, "notary_batch_size_count") == 0
        # a message queued while nothing delivers (no anchoring process) is the backlog
        assert value(after, "notary_webhook_backlog") == 0
        with running.client() as c:
            made = c.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"})
            assert made.status_code == 201, made.text
            ping = c.post(f"/v1/webhooks/{made.json()['id']}/test")
            assert ping.status_code == 202, ping.text
        queued = scrape(running.url, **token)
        assert value(queued, "notary_webhook_backlog") == 1
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_metrics_off_and_an_access_line_per_request(chain, tmp_path, caplog) -> None:
    running, server, thread = start_server(
        chain, tmp_path, batcher=False, metrics=False, access_log="all"
    )
    text = io.StringIO()
    handler = logging.StreamHandler(text)
    handler.setFormatter(TextFormatter())
    logging.getLogger("notary.access").addHandler(handler)
    try:
        caplog.set_level(logging.INFO, logger="notary.access")
        r = httpx.get(running.url + "/metrics")
        assert r.status_code == 404
        with running.client() as c:  # deposits work without the counter
            d = c.post("/v1/evidence/hash", json={"sha256": hashes(1)[0]})
            assert d.status_code == 201
        deadline = time.monotonic() + 10  # the line is written once the answer has gone
        while len(lines := [r for r in caplog.records if r.name == "notary.access"]) < 2:
            assert time.monotonic() < deadline, lines
            time.sleep(0.02)
        assert [(r.path, r.status) for r in lines] == [  # type: ignore[attr-defined]
            ("/metrics", 404),
            ("/v1/evidence/hash", 201),
        ]
        assert f"[request_id={d.headers['x-request-id']} method=POST" in text.getvalue()
    finally:
        logging.getLogger("notary.access").removeHandler(handler)
        server.should_exit = True
        thread.join(timeout=30)


def test_request_id_is_returned_and_logged_as_json(served_json: ServedProcess) -> None:
    r = httpx.get(served_json.url + "/v1/evidence/nope", headers={"X-Request-ID": "case-42.a"})
    assert r.status_code == 401
    assert r.headers["x-request-id"] == "case-42.a"
    forged = httpx.get(served_json.url + "/v1/health", headers={"X-Request-ID": 'a" b'})
    assert forged.headers["x-request-id"] != 'a" b'
    assert len(forged.headers["x-request-id"]) == 32  # a fresh one instead
    deadline = time.monotonic() + 10
    while True:
        parsed = []
        for line in log_lines(served_json):
            if line.startswith("API on http"):  # the command's banner, not a log line
                continue
            parsed.append(json.loads(line))  # every log line is one JSON object
        access = [p for p in parsed if p.get("request_id") == "case-42.a"]
        if access or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(access) == 1, access
    (line,) = access
    assert line["logger"] == "notary.access"
    assert line["status"] == 401
    assert line["path"] == "/v1/evidence/nope"
    assert {"time", "level", "message"} <= set(line)
    # the anchoring process (a process of its own) logs in the same format
    assert any(p["logger"].startswith("notary.anchoring") for p in parsed)


def test_a_many_file_deposit_does_not_flood_the_access_log(
    served_json: ServedProcess, tmp_path: Path
) -> None:
    files = 20
    folder = tmp_path / "designs"
    folder.mkdir()
    for i in range(files):
        (folder / f"{i:03}.png").write_bytes(os.urandom(64))
    before = sum(1 for line in log_lines(served_json) if '"notary.access"' in line)
    with NotaryClient(served_json.url, served_json.keys["studio"]) as client:
        result = client.deposit_folder(folder)
        for evidence in result:  # a second request per file, as certificates would be
            assert client.get(evidence["id"])["id"] == evidence["id"]
    after = sum(1 for line in log_lines(served_json) if '"notary.access"' in line)
    # 2 requests a file (upload, read), all successful: at most the one summary line
    assert after - before <= 1
