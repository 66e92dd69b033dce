"""File upload throughput as a ratio to hashlib on the same bytes, and the service's peak
memory.

    python bench/upload.py [--mib 1024]

Prints the machine's facts (CPU, SHA-256 speed, fsync latency of the data directory's
disk), writes a file of random bytes, measures hashlib's raw SHA-256 speed and SHA-256 + SM3
in one pass over it (the notary computes both, and the CID, and writes a durable spool
copy), then uploads it to a real `notary serve` process and reports the upload rate as a
ratio to that one pass (target >= 0.5), and the peak resident memory above idle of the API
process (which receives the file) and of the anchoring process (which then pins it).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _harness import children, machine_facts, peak_rss_mib, rss_mib, running_service

CHUNK = 1024 * 1024


def hash_rate(path: Path, names: tuple[str, ...]) -> float:
    hashers = [hashlib.new(n) for n in names]
    started = time.perf_counter()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            for h in hashers:
                h.update(chunk)
    return path.stat().st_size / (time.perf_counter() - started) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(machine_facts(Path(tmp) / "data"))
        path = Path(tmp) / "design.bin"
        with path.open("wb") as fh:
            for _ in range(args.mib):
                fh.write(os.urandom(CHUNK))
        sha = hash_rate(path, ("sha256",))
        both = hash_rate(path, ("sha256", "sm3"))
        print(f"hashlib SHA-256 alone:          {sha:7.0f} MiB/s")
        print(f"hashlib SHA-256 + SM3, one pass: {both:7.0f} MiB/s (what the notary computes)")
        limit = str((args.mib + 16) * 2**20)
        with running_service(Path(tmp) / "data", NOTARY_MAX_UPLOAD_BYTES=limit) as svc:
            time.sleep(3)  # the anchoring process has started and settled
            anchoring = children(svc.pid)
            idle = rss_mib(svc.pid)
            idle_anchoring = sum(rss_mib(p) for p in anchoring)
            started = time.perf_counter()
            with path.open("rb") as fh, httpx.Client(timeout=3600) as client:
                r = client.post(
                    f"{svc.url}/v1/evidence",
                    headers={"Authorization": f"Bearer {svc.key}"},
                    files={"file": ("design.bin", fh, "application/octet-stream")},
                )
            took = time.perf_counter() - started
            assert r.status_code == 201, r.text
            peak = peak_rss_mib(svc.pid)
            rate = args.mib / took
            print(
                f"upload of {args.mib} MiB through the API: {rate:7.0f} MiB/s "
                f"= {rate / both:.2f} of hashlib SHA-256 + SM3 in one pass (target >= 0.50); "
                f"{rate / sha:.2f} of SHA-256 alone"
            )
            print(
                f"API process memory: idle {idle:.0f} MiB, peak {peak:.0f} MiB, "
                f"peak above idle {peak - idle:.0f} MiB (target < 100 MiB)"
            )
            evidence = r.json()["id"]
            pinned_started = time.perf_counter()
            with httpx.Client(
                base_url=svc.url, headers={"Authorization": f"Bearer {svc.key}"}
            ) as c:
                while c.get(f"/v1/evidence/{evidence}").json()["ipfs"]["pin_state"] == "pending":
                    time.sleep(0.5)
            pinned = time.perf_counter() - pinned_started
            peak_anchoring = sum(peak_rss_mib(p) for p in anchoring)
            print(
                f"anchoring process (pins the file to IPFS, {pinned:.0f} s after the upload): "
                f"idle {idle_anchoring:.0f} MiB, peak {peak_anchoring:.0f} MiB, "
                f"peak above idle {peak_anchoring - idle_anchoring:.0f} MiB"
            )


if __name__ == "__main__":
    main()
