"""The local devnet: anvil and a private IPFS node, state persisted in the data dir.

`up` starts both detached (their own session, so they outlive the command):
- anvil from the pinned npm package, on 127.0.0.1 with a fixed chain id and the public dev
  mnemonic, loading and saving chain state at <data>/devnet/anvil-state.json (saved every
  STATE_INTERVAL_SECONDS and on a clean stop);
- the IPFS node (hardhat-free-devnet/ipfs/server.mjs: Helia on Node 22, no network), its
  blocks, pins and identity under <data>/ipfs.
In consortium mode (NOTARY_CONSORTIUM_ENDORSERS > 0) `up` also deploys the
ConsortiumRegistry (notary.ops.deploy) and starts one `notary endorser run` process per
endorser (notary.ops.consortium), detached too; `status` lists them.
`down` sends SIGTERM and waits: anvil writes its state before it exits. A kill -9 of anvil
can lose at most the last STATE_INTERVAL_SECONDS of blocks; a production chain has no such gap.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from notary.config import Settings
from notary.errors import DevnetError
from notary.files import read_json, write_json
from notary.ops.deployment import DEVNET_RECORD
from notary.ops.keys import DEV_MNEMONIC
from notary.ops.toolchain import anvil_binary, ipfs_command

STATE_INTERVAL_SECONDS: Final = 1
START_TIMEOUT_SECONDS: Final = 30.0
STOP_TIMEOUT_SECONDS: Final = 30.0

_children: dict[int, subprocess.Popen[bytes]] = {}
"""Processes this interpreter started: polled and reaped through their Popen."""


@dataclass(frozen=True)
class DevnetStatus:
    running: bool
    rpc_url: str
    chain_id: int | None
    block_number: int | None
    pid: int | None
    state_file: Path
    ipfs_api: str
    ipfs_running: bool
    ipfs_pid: int | None
    ipfs_peer_id: str | None = None
    ipfs_agent: str | None = None
    """The IPFS node's own account of itself (`/api/v0/id`'s AgentVersion)."""
    endorsers: tuple[EndorserStatus, ...] = ()
    """Consortium mode: each endorser process of this devnet."""


@dataclass(frozen=True)
class EndorserStatus:
    """One endorser of the devnet consortium: who, its process, when the notary last heard
    from it (None: never, or the notary does not answer)."""

    address: str
    name: str
    pid: int | None
    log: Path
    last_seen: str | None = None


def _dir(settings: Settings) -> Path:
    return settings.data_dir / "devnet"


def rpc_call(url: str, method: str, params: list[object] | None = None) -> object:
    """One raw JSON-RPC call (stdlib only); DevnetError when nothing answers."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    reply = _post(url, body.encode(), {"content-type": "application/json"})
    if "error" in reply:
        raise DevnetError(f"{method} failed: {reply['error']}")
    return reply.get("result")


def _post(url: str, body: bytes, headers: dict[str, str]) -> dict[str, object]:
    if not url.startswith(("http://", "https://")):
        raise DevnetError(f"not an HTTP URL: {url}")
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 (checked)
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
            reply = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DevnetError(f"{url} does not answer: {exc}") from exc
    if not isinstance(reply, dict):
        raise DevnetError(f"{url} answered with something else than a JSON object")
    return reply


def _ipfs_answers(api: str) -> bool:
    return _ipfs_id(api) is not None


def _ipfs_id(api: str) -> tuple[str, str] | None:
    """The node's peer id and agent version, or None when it does not answer as IPFS."""
    try:
        reply = _post(api + "/api/v0/id", b"", {})
    except DevnetError:
        return None
    if "ID" not in reply:
        return None
    return str(reply["ID"]), str(reply.get("AgentVersion", ""))


def _alive(pid: int, name: str) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(ChildProcessError):  # a zombie child of ours counts as dead
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    # a recycled pid (after a reboot, say) must not be mistaken for ours
    try:
        return name.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc: trust the signal check


def _pid(record: dict[str, object], key: str, name: str) -> int | None:
    pid = record.get(key)
    return pid if isinstance(pid, int) and _alive(pid, name) else None


def status(settings: Settings) -> DevnetStatus:
    """Whether the devnet of this data dir runs, and what it reports."""
    record = read_json(settings.data_dir / DEVNET_RECORD) or {}
    url = str(record.get("rpc_url") or f"http://127.0.0.1:{settings.devnet_port}")
    api = str(record.get("ipfs_api") or f"http://127.0.0.1:{settings.ipfs_port}")
    pid, ipfs_pid = _pid(record, "pid", "anvil"), _pid(record, "ipfs_pid", "server.mjs")
    state_file = _dir(settings) / "anvil-state.json"
    ipfs = _ipfs_id(api) if ipfs_pid is not None else None
    chain_id = block = None
    if pid is not None:
        try:
            chain_id = int(str(rpc_call(url, "eth_chainId")), 16)
            block = int(str(rpc_call(url, "eth_blockNumber")), 16)
        except DevnetError:
            chain_id = None
    return DevnetStatus(
        chain_id is not None,
        url,
        chain_id,
        block,
        pid,
        state_file,
        api,
        ipfs is not None,
        ipfs_pid,
        ipfs[0] if ipfs else None,
        ipfs[1] if ipfs else None,
        _endorsers(settings, record),
    )


def _notary_url(settings: Settings) -> str:
    return f"http://{settings.api_host}:{settings.endorser_api_port or settings.api_port}"


def _endorsers(settings: Settings, record: dict[str, object]) -> tuple[EndorserStatus, ...]:
    from notary.ops.consortium import load_endorsers

    pids = record.get("endorser_pids")
    pids = pids if isinstance(pids, dict) else {}
    seen = _last_seen(_notary_url(settings))
    found = []
    for e in load_endorsers(settings):
        pid = pids.get(e.address)
        alive = pid if isinstance(pid, int) and _alive(pid, "endorser") else None
        log = _dir(settings) / f"endorser-{e.index}.log"
        found.append(EndorserStatus(e.address, e.name, alive, log, seen.get(e.address)))
    return tuple(found)


def _last_seen(notary_url: str) -> dict[str, str]:
    """address -> when the notary last heard from it (GET /v1/consortium/endorsers)."""
    try:
        with urllib.request.urlopen(  # noqa: S310 (our own http URL)
            notary_url + "/v1/consortium/endorsers", timeout=2
        ) as response:
            items = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return {}
    if not isinstance(items, list):
        return {}
    return {
        str(i.get("address")): str(i.get("last_seen"))
        for i in items
        if isinstance(i, dict) and i.get("last_seen")
    }


def start_endorsers(settings: Settings) -> None:
    """Consortium mode: deploy the ConsortiumRegistry (or reuse it) and start one `notary
    endorser run` process per endorser that is not running, each with its own key and log
    (<data>/devnet/endorser-<i>.log), polling the notary at NOTARY_API_HOST:PORT."""
    from notary.ops.consortium import load_endorsers
    from notary.ops.deploy import deploy

    deployment = deploy(settings).deployment
    record = read_json(settings.data_dir / DEVNET_RECORD) or {}
    pids = record.get("endorser_pids")
    pids = dict(pids) if isinstance(pids, dict) else {}
    for e in load_endorsers(settings):
        pid = pids.get(e.address)
        if isinstance(pid, int) and _alive(pid, "endorser"):
            continue
        log = _dir(settings) / f"endorser-{e.index}.log"
        process = _spawn(
            [
                sys.executable,
                "-m",
                "notary",
                "endorser",
                "run",
                "--key",
                e.key_file,
                "--notary-url",
                _notary_url(settings),
                "--ipfs-api",
                str(record.get("ipfs_api")),
                "--registry",
                deployment.registry,
                "--rpc",
                str(record.get("rpc_url")),
            ],
            log,
        )
        pids[e.address] = process.pid
    record["endorser_pids"] = pids
    write_json(settings.data_dir / DEVNET_RECORD, record)


def _spawn(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        try:
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise DevnetError(f"cannot start {command[0]}: {exc}") from exc
    _children[process.pid] = process
    return process


def _wait_ready(
    process: subprocess.Popen[bytes], ready: Callable[[], bool], what: str, log: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DevnetError(f"{what} exited with {process.returncode}; see {log}")
        if ready():
            return
        time.sleep(0.1)
    raise DevnetError(f"{what} did not answer within {START_TIMEOUT_SECONDS:.0f}s; see {log}")


def _port_free(answers: Callable[[], bool], port: int, setting: str) -> None:
    if answers():
        raise DevnetError(f"port {port} is taken by another node; set {setting}")


def up(settings: Settings) -> DevnetStatus:
    """Start whatever part of the devnet is not running; return the status once all answer."""
    current = status(settings)
    if current.running and current.ipfs_running:
        return current
    devdir = _dir(settings)
    devdir.mkdir(parents=True, exist_ok=True)
    record = read_json(settings.data_dir / DEVNET_RECORD) or {}
    try:
        if not current.running:
            _stop(current.pid, "anvil")
            url = f"http://127.0.0.1:{settings.devnet_port}"
            _port_free(lambda: _answers_rpc(url), settings.devnet_port, "NOTARY_DEVNET_PORT")
            log = devdir / "anvil.log"
            anvil = _spawn(
                [
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
                    # the 'finalized' block is the newest one, as on a QBFT consortium chain
                    # (anvil's default keeps it 64 blocks behind: no certificate would be
                    # issued on a devnet that only mines when the notary anchors)
                    "--slots-in-an-epoch",
                    "0",
                ],
                log,
            )
            record.update(rpc_url=url, chain_id=settings.devnet_chain_id, pid=anvil.pid)
            write_json(settings.data_dir / DEVNET_RECORD, record)
            _wait_ready(anvil, lambda: _answers_rpc(url), "anvil", log)
        if not current.ipfs_running:
            _stop(current.ipfs_pid, "server.mjs")
            api = f"http://127.0.0.1:{settings.ipfs_port}"
            _port_free(lambda: _ipfs_answers(api), settings.ipfs_port, "NOTARY_IPFS_PORT")
            log = devdir / "ipfs.log"
            node = _spawn(
                [
                    *ipfs_command(),
                    "--repo",
                    str(settings.data_dir / "ipfs"),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(settings.ipfs_port),
                ],
                log,
            )
            record.update(ipfs_api=api, ipfs_pid=node.pid)
            write_json(settings.data_dir / DEVNET_RECORD, record)
            _wait_ready(node, lambda: _ipfs_answers(api), "the IPFS node", log)
    except DevnetError:
        down(settings)
        raise
    if settings.consortium:
        start_endorsers(settings)
    started = status(settings)
    if started.chain_id != settings.devnet_chain_id:
        down(settings)
        raise DevnetError(f"devnet answered with chain id {started.chain_id}")
    return started


def _answers_rpc(url: str) -> bool:
    try:
        rpc_call(url, "eth_chainId")
    except DevnetError:
        return False
    return True


def _stop(pid: int | None, name: str) -> bool:
    if pid is None or not _alive(pid, name):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not _alive(pid, name):
            _children.pop(pid, None)
            return True
        time.sleep(0.05)
    raise DevnetError(f"{name} (pid {pid}) did not stop within {STOP_TIMEOUT_SECONDS:.0f}s")


def down(settings: Settings) -> bool:
    """Stop anvil and the IPFS node (their state is saved). False if neither was running."""
    record = read_json(settings.data_dir / DEVNET_RECORD) or {}
    pids = record.get("endorser_pids")
    for pid in (pids if isinstance(pids, dict) else {}).values():
        _stop(pid if isinstance(pid, int) else None, "endorser")
    stopped_chain = _stop(
        record.get("pid") if isinstance(record.get("pid"), int) else None, "anvil"
    )
    ipfs_pid = record.get("ipfs_pid")
    stopped_ipfs = _stop(ipfs_pid if isinstance(ipfs_pid, int) else None, "server.mjs")
    if record:
        record.update(pid=None, ipfs_pid=None, endorser_pids={})
        write_json(settings.data_dir / DEVNET_RECORD, record)
    return stopped_chain or stopped_ipfs
