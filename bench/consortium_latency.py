"""Deposit-to-anchored latency with k-of-n endorsement beside the same without, one run.

    python bench/consortium_latency.py [--deposits 200] [--rate 20] [--endorsers 3] [--k 2]

Each variant gets its own devnet (anvil + IPFS node) and `notary serve` at the default
batch settings (2 s / 10,000): `single operator` (EvidenceRegistry, as today) and
`consortium k-of-n` (`notary devnet up` with NOTARY_CONSORTIUM_ENDORSERS=n deploys a
ConsortiumRegistry and starts n `notary endorser run` processes on this machine, each
polling the notary every second and fetching each manifest from the IPFS node). Deposits
are single hash deposits at `--rate` a second, each waiting (wait=60) for its anchor; the
time from sending it to the answer "anchored" is its latency. The issue's target: p99
within the batch interval + 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import create_key, free_port, machine_facts, serving
from deposits import latencies

from notary.config import Settings
from notary.ops import devnet
from notary.ops.deploy import deploy


@contextmanager
def variant(data_dir: Path, endorsers: int, k: int) -> Iterator[tuple[str, str]]:
    """(deposit URL, key) of a devnet + `notary serve` (consortium when endorsers > 0)."""
    port = free_port()
    settings = Settings(
        data_dir=data_dir,
        devnet_port=free_port(),
        ipfs_port=free_port(),
        api_port=port,
        consortium_endorsers=endorsers,
        consortium_threshold=k,
    )
    env = {"NOTARY_API_PORT": str(port)}
    if endorsers:
        env.update(NOTARY_CONSORTIUM_ENDORSERS=str(endorsers), NOTARY_CONSORTIUM_THRESHOLD=str(k))
    try:
        devnet.up(settings)
        deploy(settings)
        key = create_key(settings, **env)
        with serving(settings, key, **env) as service:
            yield service.url + "/v1/evidence/hash", key
    finally:
        devnet.down(settings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deposits", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--endorsers", type=int, default=3)
    parser.add_argument("--k", type=int, default=2)
    args = parser.parse_args()
    os.environ.pop("NOTARY_CONSORTIUM_ENDORSERS", None)
    with tempfile.TemporaryDirectory(prefix="bench-consortium-") as tmp:
        print(machine_facts(Path(tmp)))
        for name, n, k in (
            ("single operator", 0, 0),
            (f"consortium {args.k}-of-{args.endorsers}", args.endorsers, args.k),
        ):
            data_dir = Path(tmp) / name.replace(" ", "-")
            with variant(data_dir, n, k or 1) as (url, key):
                headers = {"Authorization": f"Bearer {key}"}
                lat = sorted(asyncio.run(latencies(url, headers, args.deposits, args.rate)))
            p50 = statistics.median(lat)
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            print(
                f"{name}: deposit-to-anchored latency, default batch settings (2 s / 10,000), "
                f"{args.deposits} deposits at {args.rate:g}/s: p50 {p50:.2f} s, p99 "
                f"{p99:.2f} s, max {lat[-1]:.2f} s"
            )


if __name__ == "__main__":
    main()
