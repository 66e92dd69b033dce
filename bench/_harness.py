"""Shared bench setup: a private devnet, the registry, and a real `notary serve` process."""

from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from notary.config import Settings
from notary.ops import devnet
from notary.ops.deploy import deploy

NOTARY = str(Path(sys.executable).parent / "notary")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


@dataclass
class Service:
    url: str
    key: str
    pid: int
    data_dir: Path


@contextmanager
def running_service(data_dir: Path, **env: str) -> Iterator[Service]:
    """Devnet + registry + one depositor key + `notary serve`, torn down on exit."""
    settings = Settings(data_dir=data_dir, devnet_port=free_port(), ipfs_port=free_port())
    devnet.up(settings)
    deploy(settings)
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("NOTARY_")}
    base.update(
        NOTARY_DATA_DIR=str(data_dir),
        NOTARY_DEVNET_PORT=str(settings.devnet_port),
        NOTARY_IPFS_PORT=str(settings.ipfs_port),
        **env,
    )
    run = {"env": base, "capture_output": True, "text": True, "check": True}
    subprocess.run([NOTARY, "admin", "create-org", "bench", "--name", "Bench"], **run)  # type: ignore[call-overload]
    key = subprocess.run([NOTARY, "admin", "create-key", "bench"], **run).stdout.strip()  # type: ignore[call-overload]
    log = (data_dir / "serve.log").open("ab")
    process = subprocess.Popen(
        [NOTARY, "serve", "--port", str(port)], env=base, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/v1/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("notary serve did not become ready")
            time.sleep(0.1)
        yield Service(url, key, process.pid, data_dir)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        log.close()
        devnet.down(settings)


def peak_rss_mib(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> list[int]:
    """Direct child processes of `pid` (the anchoring process of a `notary serve`)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(c) for c in text]
    return found
