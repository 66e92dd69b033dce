"""The local devnet: anvil from the pinned npm package, state persisted in the data dir.

`up` starts anvil detached (its own session, so it outlives the command), on 127.0.0.1
with a fixed chain id and the public dev mnemonic, loading and saving chain state at
<data>/devnet/anvil-state.json (saved every STATE_INTERVAL_SECONDS and on a clean stop).
`down` sends SIGTERM and waits: anvil writes the state before it exits. A kill -9 can lose
at most the last STATE_INTERVAL_SECONDS of devnet blocks; a production chain has no such gap.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from notary.config import Settings
from notary.errors import DevnetError
from notary.keys import DEV_MNEMONIC
from notary.records import DEVNET_RECORD, read_json, write_json
from notary.toolchain import anvil_binary

STATE_INTERVAL_SECONDS: Final = 1
START_TIMEOUT_SECONDS: Final = 30.0
STOP_TIMEOUT_SECONDS: Final = 30.0

_children: dict[int, subprocess.Popen[bytes]] = {}
"""anvil processes this interpreter started: polled and reaped through their Popen."""


@dataclass(frozen=True)
class DevnetStatus:
    running: bool
    rpc_url: str
    chain_id: int | None
    block_number: int | None
    pid: int | None
    state_file: Path


def _dir(settings: Settings) -> Path:
    return settings.data_dir / "devnet"


def _rpc_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.devnet_port}"


def rpc_call(url: str, method: str, params: list[object] | None = None) -> object:
    """One raw JSON-RPC call (stdlib only); DevnetError when nothing answers."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    if not url.startswith(("http://", "https://")):
        raise DevnetError(f"not an HTTP URL: {url}")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=body.encode(), headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 (local URL)
            reply = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DevnetError(f"{url} does not answer: {exc}") from exc
    if "error" in reply:
        raise DevnetError(f"{method} failed: {reply['error']}")
    return reply.get("result")


def _alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as dead
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    # a recycled pid (after a reboot, say) must not be mistaken for our anvil
    try:
        return b"anvil" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc: trust the signal check


def status(settings: Settings) -> DevnetStatus:
    """Whether the devnet of this data dir runs, and what it reports."""
    record = read_json(settings.data_dir / DEVNET_RECORD) or {}
    url = str(record.get("rpc_url") or _rpc_url(settings))
    pid = record.get("pid")
    state_file = _dir(settings) / "anvil-state.json"
    if not isinstance(pid, int) or not _alive(pid):
        return DevnetStatus(False, url, None, None, None, state_file)
    try:
        chain_id = int(str(rpc_call(url, "eth_chainId")), 16)
        block = int(str(rpc_call(url, "eth_blockNumber")), 16)
    except DevnetError:
        return DevnetStatus(False, url, None, None, pid, state_file)
    return DevnetStatus(True, url, chain_id, block, pid, state_file)


def up(settings: Settings) -> DevnetStatus:
    """Start the devnet if it is not running; return its status once it answers."""
    current = status(settings)
    if current.running:
        return current
    if current.pid is not None:  # a process is there but does not answer: stop it first
        down(settings)
    devdir = _dir(settings)
    devdir.mkdir(parents=True, exist_ok=True)
    url = _rpc_url(settings)
    try:
        rpc_call(url, "eth_chainId")
    except DevnetError:
        pass  # nothing answers there: the port is ours to use
    else:
        raise DevnetError(
            f"port {settings.devnet_port} is taken by another node; set NOTARY_DEVNET_PORT"
        )
    command = [
        str(anvil_binary()),
        "--host",
        "127.0.0.1",
        "--port",
        str(settings.devnet_port),
        "--chain-id",
        str(settings.devnet_chain_id),
        "--mnemonic",
        DEV_MNEMONIC,
        "--state",
        str(current.state_file),
        "--state-interval",
        str(STATE_INTERVAL_SECONDS),
    ]
    log = (devdir / "anvil.log").open("ab")
    try:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise DevnetError(f"cannot start anvil: {exc}") from exc
    finally:
        log.close()
    _children[process.pid] = process
    write_json(
        settings.data_dir / DEVNET_RECORD,
        {"rpc_url": url, "chain_id": settings.devnet_chain_id, "pid": process.pid},
    )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DevnetError(f"anvil exited with {process.returncode}; see {devdir / 'anvil.log'}")
        started = status(settings)
        if started.running:
            if started.chain_id != settings.devnet_chain_id:
                down(settings)
                raise DevnetError(f"devnet answered with chain id {started.chain_id}")
            return started
        time.sleep(0.1)
    down(settings)
    raise DevnetError(f"anvil did not answer within {START_TIMEOUT_SECONDS:.0f}s")


def down(settings: Settings) -> bool:
    """Stop the devnet (state is saved on the way out). False if it was not running."""
    record = read_json(settings.data_dir / DEVNET_RECORD) or {}
    pid = record.get("pid")
    if not isinstance(pid, int) or not _alive(pid):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not _alive(pid):
            _children.pop(pid, None)
            record["pid"] = None
            write_json(settings.data_dir / DEVNET_RECORD, record)
            return True
        time.sleep(0.05)
    raise DevnetError(f"anvil (pid {pid}) did not stop within {STOP_TIMEOUT_SECONDS:.0f}s")
