"""Shared fixtures: one real anvil devnet with the registry deployed, per test session (per
pytest-xdist worker: scripts/test runs test files in parallel, each file on one worker)."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from notary.config import Settings
from notary.ops import devnet
from notary.ops.deploy import deploy
from notary.ops.deployment import Deployment
from notary.ops.toolchain import NODE_MODULES, REPO_ROOT

JS_DIR = REPO_ROOT / "tests" / "js"
VECTORS = REPO_ROOT / "tests" / "vectors"


TEST_KNOBS = frozenset(
    {
        "NOTARY_CHAIN_KILLS",
        "NOTARY_FUZZ_EXAMPLES",
        "NOTARY_TEST_CONSORTIUM_SECONDS",
        "NOTARY_WEB_LARGE_MIB",
    }
)
"""The suite's own settings (how long a soak or fuzz run lasts): kept, unlike the rest."""


def pytest_configure(config: pytest.Config) -> None:
    # the suite must not pick up the developer's own NOTARY_* settings (its knobs it keeps)
    for key in [k for k in os.environ if k.startswith("NOTARY_") and k not in TEST_KNOBS]:
        del os.environ[key]


SLOW_FIRST = ("e2e", "packaging", "fuzz", "api", "integration", "store", "unit")
"""Test folders, the slowest first: scripts/test runs files in parallel in this order
(`--no-loadscope-reorder`), so the long files (kill -9 loops, the wheel build) start at
once instead of last, when the other workers would be idle."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        parts = item.path.relative_to(item.config.rootpath).parts
        folder = parts[1] if len(parts) > 2 and parts[0] == "tests" else ""
        return SLOW_FIRST.index(folder) if folder in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: the order inside a folder stays


_random = random.SystemRandom()  # not the global one, which Hypothesis seeds
_handed_out: set[int] = set()
"""Ports free_port gave this process: never given twice, so a port a test keeps dead (a
node that is not there) or restarts a node on later stays its own."""


def _port_slice() -> range:
    """This process's ports: a slice, one per pytest-xdist worker, of the ports below the
    kernel's ephemeral range (where no outgoing connection takes its source port)."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    size = (low - 10000) // max(workers, 1)
    return range(10000 + worker * size, 10000 + (worker + 1) * size)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now and that no other worker of this
    run (and no earlier call here) was given."""
    ports = _port_slice()
    for _ in range(1000):
        # an unusual ephemeral range (too few ports below it): let the kernel choose
        port = _random.choice(ports) if len(ports) >= 100 else 0
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            port = int(s.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port in {ports}")


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings of a test devnet: the single-operator registry unless `consortium_endorsers`
    is given (most tests check what does not depend on the registry; the consortium tests
    and tests/e2e/test_run_script.py, which runs the defaults, check the other)."""
    overrides.setdefault("consortium_endorsers", 0)
    return Settings(data_dir=data_dir, devnet_port=free_port(), ipfs_port=free_port(), **overrides)  # type: ignore[arg-type]


@dataclass
class Chain:
    settings: Settings
    deployment: Deployment

    @property
    def rpc_url(self) -> str:
        return self.deployment.rpc_url


@pytest.fixture(scope="session")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    settings = make_settings(tmp_path_factory.mktemp("notary-data"))
    devnet.up(settings)
    try:
        yield Chain(settings, deploy(settings).deployment)
    finally:
        devnet.down(settings)


def cli_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARY_")}
    env.update(
        NOTARY_DATA_DIR=str(settings.data_dir),
        NOTARY_DEVNET_PORT=str(settings.devnet_port),
        NOTARY_IPFS_PORT=str(settings.ipfs_port),
        NOTARY_CONSORTIUM_ENDORSERS=str(settings.consortium_endorsers),
        NOTARY_CONSORTIUM_THRESHOLD=str(settings.consortium_threshold),
    )
    return env


def run_cli(
    settings: Settings,
    *args: str,
    cwd: Path | None = None,
    input_text: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real `notary` entry point installed with the package (`env`: more variables)."""
    exe = Path(sys.executable).parent / "notary"
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        env={**cli_env(settings), **(env or {})},
        cwd=cwd,
        input=input_text,
        timeout=300,
        check=False,
    )


def run_node(
    script: str, *args: str, input_text: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NOTARY_NODE_MODULES": str(NODE_MODULES)}
    return subprocess.run(
        ["node", str(JS_DIR / script), *args],
        capture_output=True,
        text=True,
        input=input_text,
        env=env,
        timeout=300,
        check=check,
    )


def oz_tree(encoding: list[str], values: list[list[str]]) -> dict[str, object]:
    """Root, leaf hashes and proofs computed by @openzeppelin/merkle-tree."""
    out = run_node("oz_merkle.js", input_text=json.dumps({"encoding": encoding, "values": values}))
    result: dict[str, object] = json.loads(out.stdout)
    return result


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """URL of a real PostgreSQL server started for this session (tests/postgres.py)."""
    from tests.postgres import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, or a new database on the session's
    PostgreSQL server. Store-level tests run on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'notary.sqlite3'}"
    from tests.postgres import fresh_database

    return fresh_database(request.getfixturevalue("postgres"))
