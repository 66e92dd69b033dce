"""Gas per anchored deposit: one batch anchor vs one transaction per deposit, same devnet.

    python bench/anchor_gas.py

Starts a private devnet in a temporary data directory, deploys the registry, and prints
gas per deposit for batches of 1, 100 and 10,000 leaves, against the baseline of anchoring
each deposit in its own transaction (measured in the same run). Also prints how long it
takes to build the leaves and the tree of a 10,000-leaf batch on this machine.
"""

from __future__ import annotations

import os
import platform
import secrets
import socket
import tempfile
import time
from pathlib import Path

from notary.chain.registry import RegistryWriter, connect
from notary.config import Settings
from notary.core.leaf import Leaf
from notary.core.merkle import build_tree
from notary.ops import devnet
from notary.ops.deploy import deploy
from notary.ops.keys import load_key

BATCH_SIZES = (1, 100, 10_000)
BASELINE_DEPOSITS = 50


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def leaves(count: int) -> list[Leaf]:
    return [
        Leaf(
            sha256=secrets.token_bytes(32),
            sm3=secrets.token_bytes(32),
            metadata_digest=secrets.token_bytes(32),
            depositor="bench",
            salt=secrets.token_bytes(32),
        )
        for _ in range(count)
    ]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            devnet_port=free_port(),
            ipfs_port=free_port(),
            consortium_endorsers=0,
        )
        devnet.up(settings)
        try:
            deployment = deploy(settings).deployment
            writer = RegistryWriter(
                connect(deployment.rpc_url),
                deployment.registry,
                load_key(settings.notary_key_path, settings),
            )
            print(
                f"machine: {os.cpu_count()} cores, {cpu_model()}, Python "
                f"{platform.python_version()}, anvil devnet (chain {deployment.chain_id})"
            )
            baseline = [
                writer.anchor(build_tree([leaf.hash()]).root, 1).gas_used
                for leaf in leaves(BASELINE_DEPOSITS)
            ]
            per_tx = sum(baseline) / len(baseline)
            print(
                f"baseline, one transaction per deposit ({BASELINE_DEPOSITS} measured): "
                f"{per_tx:,.0f} gas per deposit"
            )
            print(
                f"{'batch size':>10} {'gas per anchor':>15} {'gas per deposit':>16} "
                f"{'vs baseline':>12} {'build s':>8}"
            )
            for size in BATCH_SIZES:
                started = time.perf_counter()
                tree = build_tree([leaf.hash() for leaf in leaves(size)])
                built = time.perf_counter() - started
                gas = writer.anchor(tree.root, size).gas_used
                print(
                    f"{size:>10,} {gas:>15,} {gas / size:>16,.1f} {per_tx / (gas / size):>11,.0f}x"
                    f" {built:>8.3f}"
                )
        finally:
            devnet.down(settings)


if __name__ == "__main__":
    main()
