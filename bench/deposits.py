"""Hash deposits through HTTP, every figure a ratio to a baseline measured in the same run:
single deposits against a bare FastAPI endpoint parsing the same JSON, bulk deposits against
a bare endpoint parsing and validating the same 10,000-item bodies; and the facts that move
those ratios between machines (hashing speed, fsync latency of the data directory's disk,
the access log, the metrics), then deposit-to-anchored latency at the default settings.

    python bench/deposits.py [--seconds 10] [--bulk-requests 10] [--latency 200] [--rounds 1]

Needs wrk (apt-get install wrk). The bare endpoints (bench/_bare_app.py) run in one uvicorn
process without an access log, as `notary serve` writes none for a successful request by
default (NOTARY_ACCESS_LOG=summary); both are driven by the same wrk command (one thread, 16
connections, a fresh hash a request), so the ratio compares like with like. (A Python load
generator tops out near 1,000 requests/s on a 2-core machine, below what the bare endpoints
serve, which hid the gap.) Bulk requests are sent one after the other by one httpx client,
as a script would, to both servers.

Single deposits are measured on one devnet and one database for each variant of the
service, restarted between them: `default` (with /metrics scraped every second, 15 times as
often as Prometheus's default), `access log all` (a line per request), `metrics off`
(NOTARY_METRICS=false), `webhooks on` (an endpoint subscribed to evidence.anchored, posting
to a local receiver that answers 204: the outbox rows are written in the batcher's
transaction and sent by the anchoring process, so this shows what they cost the deposit
path; the run also prints how long after the last deposit every message had arrived). Add a
variant to VARIANTS to compare another setting.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _harness import (
    FsyncProbe,
    create_key,
    free_port,
    machine_facts,
    running_devnet,
    serving,
)

CONCURRENCY = 16
BULK_ITEMS = 10_000


def hashes(prefix: str, n: int) -> list[str]:
    return [
        hashlib.sha256(f"{prefix}-{i}-{os.urandom(4).hex()}".encode()).hexdigest() for i in range(n)
    ]


WRK_SCRIPT = Path(__file__).parent / "hash_deposit.lua"


def wrk_rate(url: str, headers: dict[str, str], seconds: int) -> float:
    """Requests/s that wrk (C, one thread, CONCURRENCY connections) gets from `url`,
    each request a fresh hash deposit; fails if any answer was not 2xx."""
    command = ["wrk", "-t1", f"-c{CONCURRENCY}", f"-d{seconds}s", "--timeout", "30s"]
    command += ["-s", str(WRK_SCRIPT)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw failures:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return float(match.group(1))


SHM = Path("/dev/shm")
WEBHOOKS = "webhooks on (every anchored deposit posted)"
VARIANTS: list[tuple[str, dict[str, str], bool]] = [
    ("default (metrics scraped every 1 s)", {}, True),
    ("access log all", {"NOTARY_ACCESS_LOG": "all"}, True),
    ("metrics off", {"NOTARY_METRICS": "false"}, False),
    (WEBHOOKS, {}, True),
    ("database in memory (tmpfs: no fsync)", {"NOTARY_DATABASE_URL": "shm"}, True),
]
"""(name, NOTARY_* settings, scrape /metrics meanwhile) of each single-deposit run. The
last puts the SQLite file on /dev/shm, where fsync costs nothing: the gap between it and the
default is what the disk's fsync latency costs on this machine (not a setting to run with:
a deposit acknowledged there is lost with the machine's power)."""


class Receiver:
    """A local webhook receiver: answers every POST 204 and counts the messages."""

    def __init__(self) -> None:
        counter = self
        self.messages = 0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with counter.lock:
                    counter.messages += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def delivered(receiver: Receiver, data_dir: Path, before: int) -> None:
    """Wait until every deposit made since `before` anchored ones is anchored and its message
    has arrived; print how long that took after the measurement ended."""
    ended = time.perf_counter()
    wait_anchored(data_dir)
    expected = anchored_count(data_dir) - before
    while receiver.messages < expected:
        if time.perf_counter() - ended > 600:
            raise RuntimeError(f"{receiver.messages} of {expected} webhook messages arrived")
        time.sleep(0.1)
    print(
        f"webhooks: all {expected:,} evidence.anchored messages arrived "
        f"{time.perf_counter() - ended:.1f} s after the last deposit"
    )


def anchored_count(data_dir: Path) -> int:
    return statuses(data_dir).get("anchored", 0)


@contextmanager
def webhook(url: str, headers: dict[str, str]) -> Iterator[Receiver]:
    """An endpoint subscribed to evidence.anchored on a fresh local receiver, deleted on exit."""
    with Receiver() as receiver:
        r = httpx.post(
            f"{url}/v1/webhooks",
            headers=headers,
            json={"url": receiver.url, "events": ["evidence.anchored"]},
        )
        r.raise_for_status()
        try:
            yield receiver
        finally:
            httpx.delete(f"{url}/v1/webhooks/{r.json()['id']}", headers=headers)


@contextmanager
def bare_server() -> Iterator[str]:
    """The bare endpoints under uvicorn, without an access log; their base URL."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(Path(__file__).parent),
                "_bare_app:app",
                "--port",
                str(port),
                "--no-access-log",
            ],
            cwd=Path(__file__).parent.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(200):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait()


def bulk_bodies(requests: int) -> list[bytes]:
    return [
        json.dumps({"items": [{"sha256": h} for h in hashes(f"bulk{r}", BULK_ITEMS)]}).encode()
        for r in range(requests)
    ]


def bulk_rate(url: str, headers: dict[str, str], bodies: list[bytes]) -> float:
    """Hashes/s of `bodies` posted one after the other to `url` (each answered 2xx)."""
    with httpx.Client(headers={**headers, "Content-Type": "application/json"}, timeout=300) as c:
        c.post(url, content=bodies[0])  # warm up (not counted)
        started = time.perf_counter()
        for body in bodies[1:]:
            r = c.post(url, content=body)
            assert r.status_code in (200, 201), r.text
        return BULK_ITEMS * (len(bodies) - 1) / (time.perf_counter() - started)


class Scraper:
    """GET /metrics every `every` seconds in a thread while a measurement runs."""

    def __init__(self, url: str, every: float = 1.0) -> None:
        self.url, self.every = url + "/metrics", every
        self.stop = threading.Event()
        self.scrapes = self.failures = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as c:
            while not self.stop.wait(self.every):
                try:
                    c.get(self.url).raise_for_status()
                    self.scrapes += 1
                except httpx.HTTPError:  # e.g. a kept-alive connection the server closed
                    self.failures += 1

    def __enter__(self) -> Scraper:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


def statuses(data_dir: Path) -> dict[str, int]:
    """Evidence rows by status, read from the service's database file."""
    with sqlite3.connect(data_dir / "notary.sqlite3") as db:
        return dict(db.execute("SELECT status, count(*) FROM evidence GROUP BY status").fetchall())


def wait_anchored(data_dir: Path, timeout: float = 600) -> float:
    """Seconds until no deposit is pending or batched any more."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if set(statuses(data_dir)) <= {"anchored"}:
            return time.perf_counter() - started
        time.sleep(0.25)
    raise RuntimeError("deposits were not anchored in time")


async def latencies(url: str, headers: dict[str, str], n: int, rate: float) -> list[float]:
    """Deposit n hashes at `rate`/s, each with wait=60; return each one's time to anchored."""
    async with httpx.AsyncClient(headers=headers, timeout=120) as client:

        async def one(sha: str) -> float:
            started = time.perf_counter()
            r = await client.post(url, json={"sha256": sha}, params={"wait": 60})
            if r.json()["status"] != "anchored":
                raise RuntimeError("not anchored within the wait")
            return time.perf_counter() - started

        tasks = []
        for sha in hashes("latency", n):
            tasks.append(asyncio.create_task(one(sha)))
            await asyncio.sleep(1 / rate)
        return list(await asyncio.gather(*tasks))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--bulk-requests", type=int, default=10)
    parser.add_argument("--latency", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1, help="single-deposit runs a variant")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("needs wrk, the HTTP load generator: apt-get install wrk")
    ratios: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        print(machine_facts(data))
        print(f"load generator: wrk, 1 thread, {CONCURRENCY} connections, {args.seconds} s a run")
        bodies = bulk_bodies(args.bulk_requests + 1)
        with running_devnet(data) as settings, bare_server() as bare_url:
            key = create_key(settings)
            headers = {"Authorization": f"Bearer {key}"}

            def bare_rate() -> float:
                """The faster bare endpoint's requests/s, measured now (beside each run of
                the notary, so that both see the same load on a shared machine)."""
                rates = {}
                for path in ("/bare", "/bare-async"):
                    wrk_rate(bare_url + path, {}, 1)  # warm up
                    rates[path] = wrk_rate(bare_url + path, {}, args.seconds)
                print(
                    f"bare FastAPI endpoint, same model: `def` {rates['/bare']:.0f}, "
                    f"`async def` {rates['/bare-async']:.0f} requests/s"
                )
                return max(rates.values())

            memory = Path(tempfile.mkdtemp(dir=SHM)) if SHM.is_dir() else None
            keys: dict[str, str] = {}
            for round_ in range(args.rounds):
                for name, env, scrape in VARIANTS:
                    if env.get("NOTARY_DATABASE_URL") == "shm":
                        if memory is None:
                            continue
                        env = {"NOTARY_DATABASE_URL": f"sqlite:///{memory}/notary.sqlite3"}
                        if name not in keys:
                            keys[name] = create_key(settings, **env)
                    auth = {"Authorization": f"Bearer {keys.get(name, key)}"}
                    bare = bare_rate()
                    with serving(settings, key, **env) as svc:
                        url = f"{svc.url}/v1/evidence/hash"
                        wrk_rate(url, auth, 2)  # warm up
                        wait_anchored(svc.data_dir)  # the warm-up's events are not counted
                        with ExitStack() as stack:
                            receiver = None
                            if name == WEBHOOKS:
                                receiver = stack.enter_context(webhook(svc.url, auth))
                            before = anchored_count(svc.data_dir)
                            with FsyncProbe(data) as fsync:
                                if scrape:
                                    with Scraper(svc.url):
                                        single = wrk_rate(url, auth, args.seconds)
                                else:
                                    single = wrk_rate(url, auth, args.seconds)
                            if receiver is not None:
                                delivered(receiver, svc.data_dir, before)
                    ratios.setdefault(name, []).append(single / bare)
                    print(
                        f"single hash deposits, {name + ':':38} {single:7.0f} deposits/s = "
                        f"{single / bare:.2f} of the faster bare endpoint ({fsync.summary()})"
                        + (f" (round {round_ + 1})" if args.rounds > 1 else "")
                    )
            if memory is not None:
                shutil.rmtree(memory)
            bare_bulk = bulk_rate(bare_url + "/bare-bulk", {}, bodies)
            print(f"bare FastAPI endpoint parsing the bulk bodies: {bare_bulk:8.0f} hashes/s")
            with serving(settings, key) as svc, Scraper(svc.url):
                bulk = bulk_rate(f"{svc.url}/v1/evidence/hashes", headers, bodies)
                print(
                    f"bulk hash deposits, 10,000 a request, one at a time: {bulk:8.0f} hashes/s = "
                    f"{bulk / bare_bulk:.2f} of the bare endpoint parsing the same bodies"
                )
                took = wait_anchored(svc.data_dir)
                total = statuses(svc.data_dir)["anchored"]
                print(f"all {total:,} deposits anchored {took:.1f} s after the last was accepted")
                url = f"{svc.url}/v1/evidence/hash"
                lat = sorted(asyncio.run(latencies(url, headers, args.latency, rate=20)))
                p50 = statistics.median(lat)
                p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
                print(
                    f"deposit-to-anchored latency, default batch settings (2 s / 10,000), "
                    f"{args.latency} deposits at 20/s: p50 {p50:.2f} s, p99 {p99:.2f} s"
                )
        print(machine_facts(data).split("\n")[1].replace("  ", "at the end: ", 1))
    print("ratios (targets: single >= 0.50 of bare, bulk >= 0.50 of bare bulk parsing):")
    for name, values in ratios.items():
        print(f"  single, {name}: {' / '.join(f'{v:.2f}' for v in values)}")
    print(f"  bulk: {bulk / bare_bulk:.2f}")


if __name__ == "__main__":
    main()
