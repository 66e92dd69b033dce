"""Hash deposits through HTTP: throughput (single and bulk) against bare endpoints, and
deposit-to-anchored latency at the default batch settings.

    python bench/deposits.py [--seconds 10] [--bulk-requests 10] [--latency 200]

Needs wrk (apt-get install wrk). The bare endpoints (bench/_bare_app.py) parse the same JSON
with the same pydantic model and return; each server is one uvicorn process with its access
log on, driven by the same wrk command (one thread, 16 connections, a fresh hash a request),
so the ratio compares like with like. (A Python load generator tops out near 1,000
requests/s on this machine, below what the bare endpoints serve, which hid the gap.)
Bulk requests are sent one after the other by one httpx client, as a script would.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _harness import free_port, machine, running_service

CONCURRENCY = 16


def hashes(prefix: str, n: int) -> list[str]:
    return [
        hashlib.sha256(f"{prefix}-{i}-{os.urandom(4).hex()}".encode()).hexdigest() for i in range(n)
    ]


WRK_SCRIPT = Path(__file__).parent / "hash_deposit.lua"


def wrk_rate(url: str, headers: dict[str, str], seconds: int) -> float:
    """Requests/s that wrk (C, one thread, CONCURRENCY connections) gets from `url`,
    each request a fresh hash deposit; fails if any answer was not 2xx."""
    command = ["wrk", "-t1", f"-c{CONCURRENCY}", f"-d{seconds}s", "-s", str(WRK_SCRIPT)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw failures:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return float(match.group(1))


def bare_rates(seconds: int) -> dict[str, float]:
    """Requests/s of each bare endpoint (logging as `notary serve` logs: access log on)."""
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
                "--log-level",
                "info",
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
            rates: dict[str, float] = {}
            for path in ("/bare", "/bare-async"):
                wrk_rate(f"http://127.0.0.1:{port}{path}", {}, 2)  # warm up
                rates[path] = wrk_rate(f"http://127.0.0.1:{port}{path}", {}, seconds)
            return rates
        finally:
            server.terminate()
            server.wait()


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
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("needs wrk, the HTTP load generator: apt-get install wrk")
    print(f"machine: {machine()}")
    print(f"load generator: wrk, 1 thread, {CONCURRENCY} connections, {args.seconds} s a run")
    rates = bare_rates(args.seconds)
    print(f"bare FastAPI `def` endpoint, same model:       {rates['/bare']:8.0f} requests/s")
    print(f"bare FastAPI `async def` endpoint, same model: {rates['/bare-async']:8.0f} requests/s")
    bare = max(rates.values())
    with tempfile.TemporaryDirectory() as tmp, running_service(Path(tmp)) as svc:
        headers = {"Authorization": f"Bearer {svc.key}"}
        url = f"{svc.url}/v1/evidence/hash"
        wrk_rate(url, headers, 2)  # warm up
        single = wrk_rate(url, headers, args.seconds)
        print(
            f"notary single hash deposits:                   {single:8.0f} deposits/s "
            f"({single / bare:.2f} of the faster bare endpoint; target >= 0.50)"
        )
        items = 10_000
        bodies = [
            {"items": [{"sha256": h} for h in hashes(f"bulk{r}", items)]}
            for r in range(args.bulk_requests)
        ]
        with httpx.Client(base_url=svc.url, headers=headers, timeout=300) as client:
            started = time.perf_counter()
            for body in bodies:
                r = client.post("/v1/evidence/hashes", json=body)
                assert r.status_code == 201, r.text
            bulk = items * len(bodies) / (time.perf_counter() - started)
            print(
                f"notary bulk hash deposits, 10,000 a request, one at a time: {bulk:8.0f} hashes/s "
                f"(target >= 20,000)"
            )
        took = wait_anchored(svc.data_dir)
        total = statuses(svc.data_dir)["anchored"]
        print(f"all {total:,} deposits anchored {took:.1f} s after the last was accepted")
        lat = sorted(asyncio.run(latencies(url, headers, args.latency, rate=20)))
        p50 = statistics.median(lat)
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print(
            f"deposit-to-anchored latency, default batch settings (2 s / 10,000), "
            f"{args.latency} deposits at 20/s: p50 {p50:.2f} s, p99 {p99:.2f} s"
        )


if __name__ == "__main__":
    main()
