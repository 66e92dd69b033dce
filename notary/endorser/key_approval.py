"""An endorser's approvals of depositor key changes (docs/consortium.md, "Depositor key
changes"): fetch GET /v1/consortium/key-changes, check each against this endorser's chain
node (notary.endorser.checks.check_key_change), sign the EIP-712 ConfigChange it computes
itself and post the approval, or refuse with a signed report.

Whether it approves at all is its operator's decision (`--depositor-keys`):
- `off`: key changes are not looked at;
- `manual` (the default): a change that passes the checks is approved only once the
  operator approved that key with `notary endorser approve ACCOUNT --approvals FILE`
  (a line in the approvals file); until then the log says what waits. The checks prove
  that the key holder consented to sign for a depositor identity; they cannot prove which
  organization stands behind that identity, which a court or a regulator may want to check
  by hand before vouching for it;
- `auto`: every change that passes the checks is approved.
A refusal (the checks fail) is logged with its reason and reported to the notary in every
mode but `off`. The approvals file binds an approval to (account, role, organization id),
never to one config nonce, so a change proposed again at a new nonce is signed again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import httpx

from notary.chain import eip712
from notary.chain.consortium import ConsortiumReader
from notary.chain.eip712 import Report, Role, Signer, sign_report
from notary.endorser.checks import KeyChange, RegistryState, check_key_change
from notary.errors import ChainError, ConfigError
from notary.files import write_atomic

log = logging.getLogger("notary.endorser")

KeyMode = Literal["off", "manual", "auto"]
KEY_MODES: Final = ("off", "manual", "auto")
MAX_REMEMBERED: Final = 10_000


@dataclass(frozen=True)
class Approved:
    """The operator's approval of one key change (an approvals file line)."""

    account: str
    role: str
    organization: str

    @classmethod
    def of(cls, change: KeyChange) -> Approved:
        return cls(change.account.lower(), change.role.name, "0x" + change.organization.hex())


def load_approvals(path: Path | None) -> set[Approved]:
    """The approvals in `path` (JSON lines); empty when there is no file."""
    if path is None or not path.exists():
        return set()
    approved = set()
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            approved.add(Approved(str(item["account"]).lower(), item["role"], item["organization"]))
    return approved


def add_approval(path: Path, change: KeyChange) -> bool:
    """Record the operator's approval of `change` in `path`; False when it was there."""
    entry = Approved.of(change)
    approved = load_approvals(path)
    if entry in approved:
        return False
    lines = [json.dumps(a.__dict__) for a in sorted(approved | {entry}, key=str)]
    write_atomic(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return True


def parse_changes(items: list[dict[str, Any]]) -> list[KeyChange]:
    """GET /v1/consortium/key-changes' answer as KeyChange values."""
    return [
        KeyChange(
            _hex(item["digest"]),
            str(item["account"]),
            Role[str(item["role"])],
            _hex(item["organization"]),
            str(item["name"]),
            str(item["depositor"]),
            None if item.get("consent") is None else _hex(item["consent"]),
            int(item["threshold"]),
            int(item["nonce"]),
            int(item["deadline"]),
            int(item["chain_id"]),
            str(item["registry"]),
        )
        for item in items
    ]


def _hex(text: object) -> bytes:
    return bytes.fromhex(str(text).removeprefix("0x"))


class KeyApprover:
    """Handles the notary's depositor key changes once per endorser cycle."""

    def __init__(
        self,
        account: Signer,
        http: httpx.Client,
        mode: KeyMode,
        approvals_file: Path | None,
        clock: Callable[[], float],
        max_lifetime: int,
    ) -> None:
        if mode not in KEY_MODES:
            raise ConfigError(f"--depositor-keys is one of {', '.join(KEY_MODES)}, not {mode!r}")
        self.account = account
        self.http = http
        self.mode = mode
        self.approvals_file = approvals_file
        self.clock = clock
        self.max_lifetime = max_lifetime
        self.decided: dict[bytes, str] = {}
        self._waiting: set[bytes] = set()
        self._fetch_failed = False

    def fetch(self) -> list[KeyChange] | None:
        try:
            response = self.http.get("/v1/consortium/key-changes")
            response.raise_for_status()
        except httpx.HTTPError as exc:
            if not self._fetch_failed:  # once, not every poll
                log.warning("depositor key changes not fetched: %s", exc)
            self._fetch_failed = True
            return None
        self._fetch_failed = False
        return parse_changes(response.json())

    def state(self, reader: ConsortiumReader, chain_id: int, change: KeyChange) -> RegistryState:
        return RegistryState(
            chain_id,
            reader.address,
            reader.config_nonce(),
            reader.threshold(),
            reader.member(change.account),
        )

    def judge(self, reader: ConsortiumReader, chain_id: int, change: KeyChange) -> str | None:
        """The refusal reason of `change`, or None when it passes every check."""
        reason = check_key_change(
            change, self.state(reader, chain_id, change), int(self.clock()), self.max_lifetime
        )
        if reason is None and eip712.digest(change.typed_data()) != change.digest:
            return "the listed digest is not the digest of the change's own fields"
        return reason

    def cycle(self, reader: ConsortiumReader | None, chain_id: int | None) -> int:
        """Approve or refuse each change not decided yet; how many were approved."""
        if self.mode == "off":
            return 0
        if reader is None or chain_id is None:
            return 0  # checking a key change needs the chain (--rpc, --registry)
        changes = self.fetch()
        if not changes:
            return 0
        approved = load_approvals(self.approvals_file) if self.mode == "manual" else set()
        if len(self.decided) > MAX_REMEMBERED:
            self.decided.clear()
            self._waiting.clear()
        done = 0
        for change in changes:
            if change.digest in self.decided:
                continue
            try:
                reason = self.judge(reader, chain_id, change)
            except ChainError as exc:
                log.warning("chain node unreachable, key change waits: %s", exc)
                return done
            if reason is not None:
                self._refuse(change, reason)
            elif self.mode == "auto" or Approved.of(change) in approved:
                done += self.approve(change)
            elif change.digest not in self._waiting:
                self._waiting.add(change.digest)
                log.warning(
                    "key change awaits this operator's approval: %s %s for %s (%s); to "
                    "approve it: notary endorser approve %s --notary-url URL --approvals FILE",
                    "add DEPOSITOR" if change.role is Role.DEPOSITOR else "remove",
                    change.account,
                    change.depositor,
                    change.name,
                    change.account,
                )
        return done

    def approve(self, change: KeyChange) -> int:
        """Sign the change as this endorser computes it and post the approval."""
        signature = eip712.sign(self.account, change.typed_data())
        try:
            response = self.http.post(
                f"/v1/consortium/key-changes/0x{change.digest.hex()}/approvals",
                json={"signature": "0x" + signature.hex()},
            )
        except httpx.HTTPError as exc:
            log.warning("approval not posted (tried again next cycle): %s", exc)
            return 0
        if response.status_code == 200:
            self.decided[change.digest] = "approved"
            log.info(
                "approved %s of depositor key %s for %s (config nonce %s)",
                "adding" if change.role is Role.DEPOSITOR else "removing",
                change.account,
                change.depositor,
                change.nonce,
            )
            return 1
        if response.status_code in (404, 409):
            self.decided[change.digest] = "stale"
            return 0
        log.error(
            "the notary refused the approval of the change of %s: %s %s",
            change.account,
            response.status_code,
            response.text[:300],
        )
        self.decided[change.digest] = "rejected"
        return 0

    def _refuse(self, change: KeyChange, reason: str) -> None:
        log.warning("REFUSED depositor key change of %s: %s", change.account, reason)
        report = Report(change.digest, change.nonce, reason[:400], int(self.clock()))
        signature = sign_report(self.account, change.chain_id, change.registry, report)
        body = {
            "root": "0x" + change.digest.hex(),
            "batch_time": change.nonce,
            "refusal": report.refusal,
            "sent_at": report.sent_at,
            "signature": "0x" + signature.hex(),
        }
        try:
            self.http.post("/v1/consortium/reports", json=body)
        except httpx.HTTPError as exc:
            log.warning("refusal not reported: %s", exc)
            return
        self.decided[change.digest] = "refused"
