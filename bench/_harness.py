"""Shared bench setup: a private devnet, the registry, and a real `notary serve` process."""

from __future__ import annotations

import hashlib
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from notary.config import Settings
from notary.errors import DevnetError
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
def running_devnet(data_dir: Path) -> Iterator[Settings]:
    """A private devnet (anvil + IPFS node) with the registry deployed, torn down on exit."""
    for attempt in range(3):  # a heavily loaded machine may miss the start timeout
        settings = Settings(  # single operator: bench/consortium_latency.py measures endorsement
            data_dir=data_dir,
            devnet_port=free_port(),
            ipfs_port=free_port(),
            consortium_endorsers=0,
        )
        try:
            devnet.up(settings)
            break
        except DevnetError as exc:
            devnet.down(settings)
            if attempt == 2:
                raise
            print(f"devnet did not start ({exc}); trying again", file=sys.stderr)
    try:
        deploy(settings)
        yield settings
    finally:
        devnet.down(settings)


def service_env(settings: Settings, **env: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NOTARY_")}
    base.update(
        NOTARY_DATA_DIR=str(settings.data_dir),
        NOTARY_DEVNET_PORT=str(settings.devnet_port),
        NOTARY_IPFS_PORT=str(settings.ipfs_port),
        **env,
    )
    return base


def create_key(settings: Settings, **extra: str) -> str:
    """An organization `bench` (once) and a new depositor key of it (in the database of
    NOTARY_DATABASE_URL when `extra` gives one)."""
    env = service_env(settings, **extra)

    def notary(*args: str) -> str:
        done = subprocess.run([NOTARY, *args], env=env, capture_output=True, text=True)
        return done.stdout.strip()

    if "NOTARY_DATABASE_URL" in extra:  # outside the data directory: created on purpose
        notary("admin", "migrate")
    notary("admin", "create-org", "bench", "--name", "Bench")  # fails harmlessly if it exists
    key = notary("admin", "create-key", "bench")
    if not key.startswith("nk_"):
        raise RuntimeError("notary admin create-key gave no key")
    return key


@contextmanager
def serving(settings: Settings, key: str, **env: str) -> Iterator[Service]:
    """`notary serve` on the devnet of `settings` with NOTARY_* `env`, stopped on exit; on
    NOTARY_API_PORT when `env` names one (endorsers reach the notary there), else a free port."""
    port = int(env.get("NOTARY_API_PORT") or free_port())
    data_dir = settings.data_dir
    log = (data_dir / "serve.log").open("ab")
    process = subprocess.Popen(
        [NOTARY, "serve", "--port", str(port)],
        env=service_env(settings, **env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a loaded machine starts slowly
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


@contextmanager
def running_service(data_dir: Path, **env: str) -> Iterator[Service]:
    """Devnet + registry + one depositor key + `notary serve`, torn down on exit."""
    with running_devnet(data_dir) as settings, serving(settings, create_key(settings), **env) as s:
        yield s


def sha256_mib_per_s(mib: int = 64) -> float:
    """hashlib SHA-256 over `mib` MiB in memory: the machine's hashing speed."""
    data = os.urandom(1024 * 1024)
    h = hashlib.sha256()
    started = time.perf_counter()
    for _ in range(mib):
        h.update(data)
    return mib / (time.perf_counter() - started)


def fsync_ms(directory: Path, n: int = 200) -> tuple[float, float]:
    """(p50, p99) milliseconds of a 4 KiB write + fsync in `directory` (its disk): each
    committed deposit group of the notary waits for one (SQLite WAL, synchronous=FULL)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "fsync-probe"
    took = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        block = os.urandom(4096)
        for _ in range(n):
            started = time.perf_counter()
            os.write(fd, block)
            os.fsync(fd)
            took.append((time.perf_counter() - started) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    took.sort()
    return statistics.median(took), took[min(n - 1, int(n * 0.99))]


class FsyncProbe:
    """fsync latency of a disk measured in a thread while something else runs (a 4 KiB
    write + fsync every `every` seconds): what the notary's commits wait for then."""

    def __init__(self, directory: Path, every: float = 0.05) -> None:
        self.path = directory / "fsync-probe-running"
        self.every = every
        self.took: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            block = os.urandom(4096)
            while not self._stop.wait(self.every):
                started = time.perf_counter()
                os.write(fd, block)
                os.fsync(fd)
                self.took.append((time.perf_counter() - started) * 1000)
        finally:
            os.close(fd)
            self.path.unlink()

    def __enter__(self) -> FsyncProbe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> str:
        if not self.took:
            return "fsync: no sample"
        took = sorted(self.took)
        p99 = took[min(len(took) - 1, int(len(took) * 0.99))]
        return f"fsync meanwhile p50 {statistics.median(took):.1f} ms, p99 {p99:.0f} ms"


def machine_facts(data_dir: Path) -> str:
    """The facts that move the ratios between machines, measured now: CPU, cores, hashing
    speed, fsync latency of the data directory's disk, and the load on the machine."""
    p50, p99 = fsync_ms(data_dir)
    load = os.getloadavg()[0]
    return (
        f"machine: {machine()}\n"
        f"  SHA-256 {sha256_mib_per_s():.0f} MiB/s; fsync (4 KiB, {data_dir}'s disk) "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms; load average (1 min) {load:.1f}"
    )


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
