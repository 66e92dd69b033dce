"""Hash deposits through HTTP: throughput (single and bulk) against a bare endpoint, and
deposit-to-anchored latency at the default batch settings.

    python bench/deposits.py [--single 2000] [--bulk-requests 10] [--latency 200]

The bare endpoint (bench/_bare_app.py) parses the same JSON with the same pydantic model
and returns; both servers are one uvicorn process on this machine, driven by the same
asyncio load generator (16 concurrent connections), so the ratio compares like with like.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
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


async def drive(url: str, bodies: list[dict], headers: dict[str, str]) -> float:
    """Send every body once with CONCURRENCY connections; return requests per second."""
    queue: asyncio.Queue[dict] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(headers=headers, timeout=120, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                r = await client.post(url, json=body)
                if r.status_code >= 300:
                    raise RuntimeError(f"{r.status_code}: {r.text}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return len(bodies) / (time.perf_counter() - started)


def hashes(prefix: str, n: int) -> list[str]:
    return [
        hashlib.sha256(f"{prefix}-{i}-{os.urandom(4).hex()}".encode()).hexdigest() for i in range(n)
    ]


def bare_rates(n: int) -> dict[str, float]:
    """Requests/s of each bare endpoint, each measured twice (the best run counts)."""
    port = free_port()
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
            "warning",
        ],
        cwd=Path(__file__).parent.parent,
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
            url = f"http://127.0.0.1:{port}{path}"
            bodies = [{"sha256": h} for h in hashes("bare", n)]
            asyncio.run(drive(url, bodies[:200], {}))  # warm up
            rates[path] = max(asyncio.run(drive(url, bodies, {})) for _ in range(2))
        return rates
    finally:
        server.terminate()
        server.wait()


def wait_anchored(client: httpx.Client, expected: int, timeout: float = 600) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        pending = sum(
            len(client.get("/v1/evidence", params={"status": s, "limit": 1}).json()["items"])
            for s in ("pending", "batched")
        )
        if pending == 0:
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
    parser.add_argument("--single", type=int, default=2000)
    parser.add_argument("--bulk-requests", type=int, default=10)
    parser.add_argument("--latency", type=int, default=200)
    args = parser.parse_args()
    print(f"machine: {machine()}; load generator: asyncio httpx, {CONCURRENCY} connections")
    rates = bare_rates(args.single)
    print(f"bare FastAPI `def` endpoint, same model:     {rates['/bare']:8.0f} requests/s")
    print(f"bare FastAPI `async def` endpoint:           {rates['/bare-async']:8.0f} requests/s")
    bare = max(rates.values())
    with tempfile.TemporaryDirectory() as tmp, running_service(Path(tmp)) as svc:
        headers = {"Authorization": f"Bearer {svc.key}"}
        single = asyncio.run(
            drive(
                f"{svc.url}/v1/evidence/hash",
                [{"sha256": h} for h in hashes("single", args.single)],
                headers,
            )
        )
        print(
            f"notary single hash deposits:                {single:8.0f} deposits/s "
            f"({single / bare:.2f} of the faster bare endpoint; target >= 0.50)"
        )
        items = 10_000
        bodies = [
            {"items": [{"sha256": h} for h in hashes(f"bulk{r}", items)]}
            for r in range(args.bulk_requests)
        ]
        started = time.perf_counter()
        with httpx.Client(base_url=svc.url, headers=headers, timeout=300) as client:
            for body in bodies:
                r = client.post("/v1/evidence/hashes", json=body)
                assert r.status_code == 201, r.text
            bulk = items * len(bodies) / (time.perf_counter() - started)
            print(
                f"notary bulk hash deposits (10,000/request): {bulk:8.0f} hashes/s "
                f"(target >= 20,000)"
            )
            total = args.single + items * len(bodies)
            took = wait_anchored(client, total)
            print(f"all {total:,} deposits anchored {took:.1f} s after the last was accepted")
        lat = sorted(
            asyncio.run(latencies(f"{svc.url}/v1/evidence/hash", headers, args.latency, rate=20))
        )
        p50 = statistics.median(lat)
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print(
            f"deposit-to-anchored latency, default batch settings (2 s / 10,000), "
            f"{args.latency} deposits at 20/s: p50 {p50:.2f} s, p99 {p99:.2f} s"
        )


if __name__ == "__main__":
    main()
