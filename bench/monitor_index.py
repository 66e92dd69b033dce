"""Watch index latency at 10^4, 10^5 and 10^6 watched designs, beside a brute-force scan.

    python bench/monitor_index.py [--max-keys 1000000] [--captures 200] [--brute 20]
    python bench/monitor_index.py --vectors-per-key 1 --query-vectors 2 --radii 36 --kind spectrum
                                  # the spectrum kind: one vector a design, whole image +/- mirror

Each watched design has 2 random 256-bit vectors of one kind (as PDQ and a second
fingerprint would give). One capture is 8 query vectors (a capture's fingerprint variants):
one is planted at a known distance (0..48) from a random stored vector, the other 7 are
random. For each size it prints: the time of load() (the rebuild from the database at start)
and of one background rebuild (what every COMPACT_MAX_ROWS changes cost), the index's memory
(its arrays, and the process's resident memory grown by the build), p50/p99 latency of
query() for one capture at radius 31 and 48, add() and remove() latency, and the same
capture answered by a numpy brute-force scan (xor + popcount over every row) in the same
run. Every planted vector must be found when its distance is within the radius, and a few
captures per size are checked against the brute-force answer (the run stops on a mismatch).
Target: p99 < 50 ms for one capture at 10^6 designs. Not part of CI (minutes, ~1 GB).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _harness import machine, rss_mib

from notary.monitor import index as index_module
from notary.monitor.index import WatchIndex
from notary.monitor.mih import distances

SIZES = (10**4, 10**5, 10**6)
VECTORS_PER_KEY = 2
QUERY_VECTORS = 8
RADII = (31, 48)
PLANTED = (0, 8, 16, 24, 31, 40, 48)
KIND = "pdq"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def flip(vector: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    """A copy of a (4,) uint64 vector with exactly `bits` bits flipped."""
    as_bits = np.unpackbits(vector.view(np.uint8))
    chosen = rng.choice(256, size=bits, replace=False)
    as_bits[chosen] ^= 1
    return np.packbits(as_bits).view(np.uint64)


def brute_force(vectors: np.ndarray, keys: np.ndarray, queries: np.ndarray, radius: int):
    """{key: smallest distance} over every row: the baseline (and the cross-check)."""
    best: dict[int, int] = {}
    for q in queries:
        d = distances(vectors, q)
        hit = np.flatnonzero(d <= radius)
        for key, dist in zip(keys[hit].tolist(), d[hit].tolist(), strict=True):
            best[key] = min(dist, best.get(key, 257))
    return best


def index_bytes(index: WatchIndex) -> int:
    total = 0
    for kind in index._kinds.values():
        base = kind.base
        total += base.vectors.nbytes + base.keys.nbytes + base.table.nbytes + kind.dead.nbytes
        total += kind.delta.nbytes + kind.delta_keys.nbytes + kind.delta_live.nbytes
    return total


def ms(samples: list[float]) -> str:
    p50, p99 = statistics.median(samples) * 1e3, percentile(samples, 0.99) * 1e3
    return f"p50 {p50:7.2f} ms  p99 {p99:7.2f} ms"


def random_vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, size=(n, 32), dtype=np.uint8).view(np.uint64).reshape(n, 4)


def run(keys_count: int, captures: int, brute_captures: int, rng: np.random.Generator) -> None:
    rows = keys_count * VECTORS_PER_KEY
    vectors = random_vectors(rows, rng)
    keys = np.repeat(np.arange(keys_count, dtype=np.int64), VECTORS_PER_KEY)
    raw = [v.tobytes() for v in vectors]
    gc.collect()
    rss_before = rss_mib_self()
    index = WatchIndex()
    started = time.perf_counter()
    index.load(zip(keys.tolist(), [KIND] * rows, raw, strict=True))
    load_s = time.perf_counter() - started
    del raw
    gc.collect()
    rss_grown = rss_mib_self() - rss_before
    assert len(index) == keys_count

    started = time.perf_counter()
    index_module._Base.build(vectors, keys)  # what a background rebuild computes
    rebuild_s = time.perf_counter() - started
    layout = index._kinds[KIND].base.table.layout

    print(
        f"\n{keys_count:>9,} designs ({rows:,} vectors, {len(layout)} chunks of "
        f"{min(layout)}-{max(layout)} bits): load() {load_s:.1f} s, one rebuild "
        f"{rebuild_s:.1f} s; index arrays {index_bytes(index) / 2**20:.0f} MiB "
        f"({index_bytes(index) / rows:.0f} B per vector), RSS grown {rss_grown:.0f} MiB"
    )

    plans = []
    for i in range(captures):
        target = int(rng.integers(rows))
        planted = PLANTED[i % len(PLANTED)]
        queries = random_vectors(QUERY_VECTORS, rng).copy()
        queries[0] = flip(vectors[target], planted, rng)
        plans.append((int(keys[target]), planted, queries))

    for radius in RADII:
        took: list[float] = []
        for i, (key, planted, queries) in enumerate(plans):
            as_bytes = [q.tobytes() for q in queries]
            started = time.perf_counter()
            found = index.query(KIND, as_bytes, radius, limit=1000)
            took.append(time.perf_counter() - started)
            best = dict(found)
            if planted <= radius and best.get(key, 999) > planted:
                raise SystemExit(f"MISSED a planted vector at distance {planted} (radius {radius})")
            if i < 3 and brute_force(vectors, keys, queries, radius) != best:
                raise SystemExit(f"index and brute force disagree at radius {radius}")
        brute: list[float] = []
        for _key, _planted, queries in plans[:brute_captures]:
            started = time.perf_counter()
            brute_force(vectors, keys, queries, radius)
            brute.append(time.perf_counter() - started)
        print(
            f"  radius {radius}: index {ms(took)}   brute force {ms(brute)}   "
            f"({statistics.median(brute) / statistics.median(took):.0f}x)"
        )

    took_add, took_remove = [], []
    for i in range(200):
        key = keys_count + i
        v = [row.tobytes() for row in random_vectors(2, rng)]
        started = time.perf_counter()
        index.add(key, KIND, v)
        took_add.append(time.perf_counter() - started)
        started = time.perf_counter()
        index.remove(int(rng.integers(keys_count)))
        took_remove.append(time.perf_counter() - started)
    print(f"  add() {ms(took_add)}   remove() {ms(took_remove)}")
    print(f"  load average now {os.getloadavg()[0]:.1f} (other work on the machine skews p99)")


def rss_mib_self() -> float:
    return rss_mib(os.getpid())


def main() -> None:
    global VECTORS_PER_KEY, QUERY_VECTORS, RADII, KIND
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-keys", type=int, default=10**6, help="largest size (default 10^6)")
    parser.add_argument("--captures", type=int, default=200, help="captures timed per radius")
    parser.add_argument("--brute", type=int, default=20, help="captures timed by brute force")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--vectors-per-key", type=int, default=VECTORS_PER_KEY)
    parser.add_argument("--query-vectors", type=int, default=QUERY_VECTORS)
    parser.add_argument("--radii", default=",".join(map(str, RADII)), help="e.g. 31,48")
    parser.add_argument("--kind", default=KIND)
    args = parser.parse_args()
    VECTORS_PER_KEY, QUERY_VECTORS, KIND = args.vectors_per_key, args.query_vectors, args.kind
    RADII = tuple(int(r) for r in args.radii.split(","))
    print(f"machine: {machine()}, numpy {np.__version__}, load average {os.getloadavg()[0]:.1f}")
    print(
        f"kind {KIND}: one capture = {QUERY_VECTORS} query vectors; {VECTORS_PER_KEY} vectors "
        "per design; "
        f"planted copies at distances {PLANTED}"
    )
    rng = np.random.default_rng(args.seed)
    for size in SIZES:
        if size <= args.max_keys:
            run(size, args.captures, args.brute, rng)
    if args.max_keys not in SIZES and args.max_keys > 0:
        run(args.max_keys, args.captures, args.brute, rng)


if __name__ == "__main__":
    main()
