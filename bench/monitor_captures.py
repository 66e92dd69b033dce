"""Early warning end to end through HTTP: what fingerprinting costs the file deposit path,
and captures per second (fingerprint + match + deposit with its alerts), on a real
`notary serve` over a private devnet.

    python bench/monitor_captures.py [--designs 300] [--captures 400] [--clients 8]
                                     [--profile OUT.txt]

1. File deposits: the same number of designs as PNG (fingerprinted) and as random bytes of
   the same sizes (recognised as not an image at once), one request at a time, so the
   difference per deposit is what fingerprinting adds to the deposit path (its latency).
2. Captures: transformed copies of the designs (bench/monitor_evalset.py's transformations,
   in turn) posted by a second organization from `--clients` concurrent clients; prints
   captures/s (target >= 100) and how many of them raised an alert for the designs' owner.
3. For reference, fingerprint_capture alone on the same images in this process, one core.

With --profile, py-spy samples the service and its worker processes while the captures run
and writes collapsed stacks (flame-graph input) to OUT.txt, then prints where the time went.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _harness import NOTARY, machine_facts, running_devnet, service_env, serving
from monitor_evalset import TRANSFORMS, design, encoded, studio_of, transformed

from notary.monitor.fingerprint import fingerprint_capture, fingerprint_design


def _key(settings, slug: str) -> str:  # type: ignore[no-untyped-def]
    env = service_env(settings)
    subprocess.run([NOTARY, "admin", "create-org", slug, "--name", slug], env=env,
                   capture_output=True, check=False)  # fmt: skip
    done = subprocess.run([NOTARY, "admin", "create-key", slug], env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    return done.stdout.strip()


def _deposit(url: str, key: str, blobs: list[bytes], suffix: str) -> list[float]:
    """One file deposit after the other; each one's latency (s)."""
    took = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
        for n, blob in enumerate(blobs):
            start = time.perf_counter()
            r = c.post("/v1/evidence", files={"file": (f"d{n}{suffix}", blob)})
            took.append(time.perf_counter() - start)
            if r.status_code not in (200, 201):
                raise RuntimeError(r.text)
    return took


def _captures(url: str, key: str, shots: list[bytes], clients: int) -> tuple[float, int]:
    """Post every shot from `clients` threads; (seconds, answers that were 2xx)."""
    meta = json.dumps({"source_url": "https://shop.example/item", "shop": "bench"})

    def post(blob: bytes) -> int:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                          timeout=120) as c:  # fmt: skip
            r = c.post("/v1/monitor/captures",
                       files={"file": ("shot", blob), "metadata": (None, meta)})  # fmt: skip
            return r.status_code

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        codes = list(pool.map(post, shots))
    return time.perf_counter() - start, sum(1 for c in codes if c < 300)


def _profile(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy recording `pid` and its children (the fingerprint workers) until SIGINT."""
    spy = str(Path(sys.executable).parent / "py-spy")
    command = [spy, "record", "--pid", str(pid), "--subprocesses", "--rate", "200",
               "--format", "raw", "--output", str(out)]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _top(out: Path, limit: int = 25) -> None:
    """The functions that held the most samples (self time), from py-spy's raw output."""
    own: dict[str, int] = {}
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        total += int(count)
        own[frames[-1]] = own.get(frames[-1], 0) + int(count)
    print(f"\nprofile ({total} samples, all processes, on CPU), self time:")
    for frame, n in sorted(own.items(), key=lambda kv: -kv[1])[:limit]:
        print(f"  {n / max(1, total) * 100:5.1f} %  {frame}")


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"median {statistics.median(values) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--designs", type=int, default=300)
    parser.add_argument("--captures", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--profile", type=Path, help="py-spy collapsed stacks of the captures")
    args = parser.parse_args()

    images = [design(studio_of(i), i) for i in range(args.designs)]
    pngs = [encoded(img) for img in images]
    noise = [os.urandom(len(p)) for p in pngs]
    names = list(TRANSFORMS)
    shots = [
        transformed(images[n % len(images)], names[n % len(names)], n) for n in range(args.captures)
    ]
    with tempfile.TemporaryDirectory(prefix="bench-monitor-") as tmp:
        data_dir = Path(tmp)
        print(machine_facts(data_dir))
        with running_devnet(data_dir) as settings:
            owner, finder = _key(settings, "studio"), _key(settings, "finder")
            with serving(settings, owner) as service:
                images_took = _deposit(service.url, owner, pngs, ".png")
                bytes_took = _deposit(service.url, owner, noise, ".bin")
                spy = _profile(service.pid, args.profile) if args.profile else None
                seconds, ok = _captures(service.url, finder, shots, args.clients)
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(timeout=60)
                with httpx.Client(base_url=service.url, timeout=60,
                                  headers={"Authorization": f"Bearer {owner}"}) as c:  # fmt: skip
                    alerts, cursor = 0, None
                    while True:
                        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
                        page = c.get("/v1/alerts", params=params).json()
                        alerts += len(page["items"])
                        if not (cursor := page["next_cursor"]):
                            break
    size = statistics.mean(len(p) for p in pngs) / 1024
    print(f"\nfile deposits, {args.designs} each, one at a time (mean {size:.0f} KiB):")
    print(f"  design PNGs (fingerprinted): {_ms(images_took)}")
    print(f"  random bytes (not images):   {_ms(bytes_took)}")
    extra = statistics.median(images_took) - statistics.median(bytes_took)
    print(f"  fingerprinting adds {extra * 1000:.1f} ms to a deposit's latency (median)")
    print(f"\ncaptures: {ok}/{args.captures} accepted in {seconds:.1f} s from {args.clients} "
          f"clients: {ok / seconds:.1f} captures/s end to end (target >= 100)")  # fmt: skip
    print(f"  alerts for the owner: {alerts} (captures of its designs: {args.captures})")
    if args.profile:
        _top(args.profile)
    start = time.perf_counter()
    for shot in shots:
        fingerprint_capture(shot)
    alone = time.perf_counter() - start
    start = time.perf_counter()
    for p in pngs[:100]:
        fingerprint_design(p)
    designs_alone = (time.perf_counter() - start) / min(100, len(pngs))
    print(
        f"\nfingerprint_capture alone, one core: {len(shots) / alone:.1f} images/s; "
        f"fingerprint_design: {designs_alone * 1000:.1f} ms an image"
    )


if __name__ == "__main__":
    main()
