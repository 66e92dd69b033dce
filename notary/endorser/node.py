"""The endorser node's loop: poll the notary's proposals, check each batch independently,
sign it or refuse it (with the reason, in this log and in the notary's batch history).

It talks to the notary over HTTP (GET /v1/consortium/proposals, POST
.../endorsements, POST /v1/consortium/reports, and for depositor key changes GET
/v1/consortium/key-changes, POST .../approvals: notary.endorser.key_approval), to its own
IPFS endpoint (the manifest)
and, when given one, to a chain node (its own membership, the chain id, and whether a root
is already anchored). Its private key stays in this process: only its address is logged.
"""

from __future__ import annotations

import logging
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx

from notary.chain.consortium import ConsortiumReader, connect_consortium_reader
from notary.chain.eip712 import Batch, Report, Role, Signer, sign_endorsement, sign_report
from notary.endorser.checks import (
    MAX_CHANGE_LIFETIME,
    Proposal,
    Tolerance,
    check_header,
    check_manifest,
    manifest_limit,
)
from notary.endorser.key_approval import KeyApprover, KeyMode
from notary.errors import ChainError, ConfigError, IpfsError, NotaryError, NotFoundError
from notary.ipfs.client import KuboRpc

log = logging.getLogger("notary.endorser")

RETRY_UNRETRIEVABLE_SECONDS: Final = 15.0
"""A manifest that could not be fetched is tried again after this (it is refused once)."""
HTTP_TIMEOUT_SECONDS: Final = 10.0
MAX_REMEMBERED: Final = 10_000


def check_key_file(path: Path) -> None:
    """ConfigError unless `path` is a regular file that only its owner can read (0600 or
    stricter): a key others can read is as good as published."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"key file {path} does not exist") from None
    if not stat.S_ISREG(mode):
        raise ConfigError(f"key file {path} is not a regular file")
    if mode & 0o077:
        raise ConfigError(
            f"key file {path} has mode {stat.S_IMODE(mode):04o}; an endorser's key must be "
            f"readable by its owner only: chmod 600 {path}"
        )


@dataclass
class NodeConfig:
    notary_url: str
    ipfs_api: str
    ipfs_token: str | None = None
    registry: str | None = None
    rpc_url: str | None = None
    tolerance: Tolerance = field(default_factory=Tolerance)
    poll_seconds: float = 0.5
    heartbeat_seconds: float = 10.0
    ipfs_timeout_seconds: float = 10.0
    depositor_keys: KeyMode = "manual"
    """Whether depositor key changes are approved: off, manual (keys its operator approved
    in `approvals_file`), auto (notary.endorser.key_approval)."""
    approvals_file: Path | None = None
    key_poll_seconds: float = 2.0
    """Depositor key changes are looked at this often (rarer than batches: each look
    is a request to the notary and, per open change, reads of the chain)."""
    max_change_lifetime: int = MAX_CHANGE_LIFETIME


class EndorserNode:
    """One member's endorser: `cycle` handles the current proposals once; `run` loops."""

    def __init__(
        self, account: Signer, config: NodeConfig, clock: Callable[[], float] = time.time
    ) -> None:
        self.account = account
        self.address = str(account.address)
        self.config = config
        self.clock = clock
        self.http = httpx.Client(base_url=config.notary_url, timeout=HTTP_TIMEOUT_SECONDS)
        self.ipfs = KuboRpc(config.ipfs_api, config.ipfs_token, config.ipfs_timeout_seconds)
        self.reader: ConsortiumReader | None = None
        self.chain_id: int | None = None
        self.decided: dict[tuple[bytes, int], str] = {}
        self.unretrievable: dict[tuple[bytes, int], float] = {}
        self._last_heartbeat = 0.0
        self._notary_down = False
        self._last_keys = -config.key_poll_seconds
        self.keys = KeyApprover(
            account,
            self.http,
            config.depositor_keys,
            config.approvals_file,
            clock,
            config.max_change_lifetime,
        )
        """Depositor key changes (approved or refused after the batches of each cycle)."""

    # -- start -------------------------------------------------------------------------

    def connect_chain(self) -> None:
        """With --rpc and --registry: learn the chain id and check that this key is a
        current ENDORSER (ConfigError otherwise: signing would be pointless)."""
        if self.config.rpc_url is None or self.config.registry is None:
            return
        reader = connect_consortium_reader(self.config.rpc_url, self.config.registry)
        member = reader.member(self.address)
        if member.role is not Role.ENDORSER:
            raise ConfigError(
                f"{self.address} is not an endorser of the registry {reader.address} "
                f"(role {member.role.name})"
            )
        self.chain_id = reader.chain_id()
        self.reader = reader
        log.info(
            "endorser %s (%s) serving registry %s on chain %s",
            self.address,
            member.name,
            reader.address,
            self.chain_id,
        )

    def run(self, stop: threading.Event) -> None:
        """Cycles every poll_seconds until `stop` is set; nothing but `stop` ends it."""
        while not stop.is_set():
            try:
                if self.reader is None and self.config.rpc_url is not None:
                    self.connect_chain()
                self.cycle()
            except ConfigError:
                raise
            except NotaryError as exc:
                log.warning("endorser cycle paused: %s", exc)
            except Exception:
                log.exception("endorser cycle failed")
            stop.wait(self.config.poll_seconds)
        self.http.close()
        self.ipfs.close()

    # -- one cycle ---------------------------------------------------------------------

    def cycle(self) -> int:
        """Handle every proposal not decided yet; return how many were endorsed."""
        proposals = self._proposals()
        if proposals is None:
            return 0
        self._heartbeat()
        endorsed = 0
        for p in proposals:
            key = (p.root, p.batch_time)
            if key in self.decided:
                continue
            retry_at = self.unretrievable.get(key)
            if retry_at is not None and self.clock() < retry_at:
                continue
            reason = self._check(p)
            if reason is None:
                endorsed += self._endorse(p)
            elif reason:
                self._refuse(p, reason)
        if len(self.decided) > MAX_REMEMBERED:
            self.decided.clear()
        if self.clock() - self._last_keys >= self.config.key_poll_seconds:
            self._last_keys = self.clock()
            self.keys.cycle(self.reader, self.chain_id)
        return endorsed

    def _proposals(self) -> list[Proposal] | None:
        try:
            response = self.http.get("/v1/consortium/proposals")
            response.raise_for_status()
        except httpx.HTTPError as exc:
            if not self._notary_down:
                log.warning("notary %s unreachable: %s", self.config.notary_url, exc)
            self._notary_down = True
            return None
        if self._notary_down:
            log.info("notary %s answers again", self.config.notary_url)
        self._notary_down = False
        return [
            Proposal(
                bytes.fromhex(str(item["root"]).removeprefix("0x")),
                int(item["leaf_count"]),
                str(item["manifest"]),
                int(item["batch_time"]),
                int(item["chain_id"]),
                str(item["registry"]),
            )
            for item in response.json()
        ]

    def _check(self, p: Proposal) -> str | None:
        """The refusal reason, None to endorse, "" to try again later (not refused)."""
        reason = check_header(
            p, int(self.clock()), self.config.tolerance, self.chain_id, self.config.registry
        )
        if reason is not None:
            return reason
        if self.reader is not None:
            try:
                if self.reader.anchor_of(p.root).sequence != 0:
                    return f"root 0x{p.root.hex()} is already anchored in the registry"
            except ChainError as exc:
                log.warning("chain node unreachable, batch 0x%s waits: %s", p.root.hex(), exc)
                return ""
        data = self._fetch(p)
        if data is None:
            key = (p.root, p.batch_time)
            first = key not in self.unretrievable
            self.unretrievable[key] = self.clock() + RETRY_UNRETRIEVABLE_SECONDS
            if not first:
                return ""  # refused once already; tried again quietly
            return (
                f"manifest {p.manifest} is not retrievable from this endorser's IPFS node "
                f"({self.config.ipfs_api}): {self._fetch_error}"
            )
        self.unretrievable.pop((p.root, p.batch_time), None)
        return check_manifest(p, data)

    _fetch_error = ""

    def _fetch(self, p: Proposal) -> bytes | None:
        limit = manifest_limit(p.leaf_count)
        pieces: list[bytes] = []
        size = 0
        try:
            for piece in self.ipfs.cat(p.manifest):
                pieces.append(piece)
                size += len(piece)
                if size > limit:
                    break  # check_manifest refuses it by its size
        except (IpfsError, NotFoundError) as exc:
            self._fetch_error = str(exc)[:200]
            return None
        return b"".join(pieces)

    def _endorse(self, p: Proposal) -> int:
        batch = Batch(p.root, p.leaf_count, p.manifest, p.batch_time)
        signature = sign_endorsement(self.account, p.chain_id, p.registry, batch)
        response = self._post(
            f"/v1/consortium/proposals/0x{p.root.hex()}/endorsements",
            {"batch_time": p.batch_time, "signature": "0x" + signature.hex()},
        )
        if response is None:
            return 0  # the notary is down: endorse again next cycle
        key = (p.root, p.batch_time)
        if response.status_code == 200:
            self.decided[key] = "endorsed"
            log.info(
                "endorsed batch 0x%s (%s leaves, batch time %s)",
                p.root.hex(),
                p.leaf_count,
                p.batch_time,
            )
            return 1
        if response.status_code in (404, 409):
            self.decided[key] = "stale"  # anchored, or proposed again meanwhile
            return 0
        log.error(
            "the notary refused the endorsement of batch 0x%s: %s %s",
            p.root.hex(),
            response.status_code,
            response.text[:300],
        )
        self.decided[key] = "rejected"
        return 0

    def _refuse(self, p: Proposal, reason: str) -> None:
        key = (p.root, p.batch_time)
        log.warning("REFUSED batch 0x%s (batch time %s): %s", p.root.hex(), p.batch_time, reason)
        report = Report(p.root, p.batch_time, reason[:400], int(self.clock()))
        signature = sign_report(self.account, p.chain_id, p.registry, report)
        posted = self._post("/v1/consortium/reports", _report_body(report, signature))
        if posted is not None and key not in self.unretrievable:
            self.decided[key] = "refused"

    def _heartbeat(self) -> None:
        registry = self.config.registry
        if registry is None or self.chain_id is None:
            return
        now = self.clock()
        if now - self._last_heartbeat < self.config.heartbeat_seconds:
            return
        report = Report(bytes(32), 0, "", int(now))
        signature = sign_report(self.account, self.chain_id, registry, report)
        if self._post("/v1/consortium/reports", _report_body(report, signature)) is not None:
            self._last_heartbeat = now

    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response | None:
        try:
            return self.http.post(path, json=body)
        except httpx.HTTPError as exc:
            log.warning("notary %s unreachable: %s", self.config.notary_url, exc)
            return None


def _report_body(report: Report, signature: bytes) -> dict[str, Any]:
    return {
        "root": "0x" + report.root.hex(),
        "batch_time": report.batch_time,
        "refusal": report.refusal,
        "sent_at": report.sent_at,
        "signature": "0x" + signature.hex(),
    }
