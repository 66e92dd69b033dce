"""The devnet consortium: the endorsers' keys and the record of who they are.

In consortium mode (NOTARY_CONSORTIUM_ENDORSERS = n > 0), `notary deploy` deploys a
ConsortiumRegistry whose genesis members are the operator's notary account (NOTARY) and n
ENDORSER organizations: an internet court, a market regulator, an industry association,
then numbered ones. Each
endorser's key is generated fresh (never an anvil default key) into
<data>/keys/endorser-<i>.key with mode 0600; endorsers only sign, so they are not funded.
<data>/consortium.json records them (address, organization id, name, key file) for
`notary devnet up` (which starts one `notary endorser run` process per endorser) and
`notary devnet status`.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from notary.chain.eip712 import MemberChange, Role
from notary.config import Settings
from notary.errors import ConfigError, StorageError
from notary.files import read_json, write_json
from notary.ops.keys import load_key, write_key

CONSORTIUM_RECORD: Final = "consortium.json"
NOTARY_ORGANIZATION: Final = "Notary operator (devnet)"
ENDORSER_NAMES: Final = (
    "杭州互联网法院 (devnet)",
    "市场监督管理局 (devnet)",
    "童装行业协会 (devnet)",
)
"""The first endorsers of the devnet: an internet court, a market regulator and a
children's-wear industry association."""


@dataclass(frozen=True)
class EndorserRecord:
    """One endorser of the devnet consortium."""

    index: int
    address: str
    organization: str
    """0x-hex of the 32-byte organization id: keccak256 of the name."""
    name: str
    key_file: str


def endorser_name(index: int) -> str:
    """The devnet name of endorser `index` (1-based)."""
    if index <= len(ENDORSER_NAMES):
        return ENDORSER_NAMES[index - 1]
    return f"Endorser {index} (devnet)"


def organization_id(name: str) -> bytes:
    return keccak(name.encode())


def endorser_key_path(settings: Settings, index: int) -> Path:
    return settings.keys_dir / f"endorser-{index}.key"


def check_policy(settings: Settings) -> None:
    """ConfigError unless 1 <= k <= n (the registry refuses anything else)."""
    n, k = settings.consortium_endorsers, settings.consortium_threshold
    if not 1 <= k <= n:
        raise ConfigError(
            f"NOTARY_CONSORTIUM_THRESHOLD={k} must be between 1 and NOTARY_CONSORTIUM_ENDORSERS={n}"
        )


def ensure_endorsers(settings: Settings) -> list[tuple[EndorserRecord, LocalAccount]]:
    """The n endorsers' accounts, generating missing keys (mode 0600)."""
    found = []
    for index in range(1, settings.consortium_endorsers + 1):
        path = endorser_key_path(settings, index)
        if not path.exists():
            write_key(path, Account.from_key(secrets.token_bytes(32)))
        account = load_key(path, settings)
        name = endorser_name(index)
        record = EndorserRecord(
            index, account.address, "0x" + organization_id(name).hex(), name, str(path)
        )
        found.append((record, account))
    return found


def genesis(notary: str, endorsers: list[EndorserRecord]) -> list[MemberChange]:
    """Genesis members: the notary account, then the endorsers."""
    members = [
        MemberChange(notary, Role.NOTARY, organization_id(NOTARY_ORGANIZATION), NOTARY_ORGANIZATION)
    ]
    members += [
        MemberChange(e.address, Role.ENDORSER, organization_id(e.name), e.name) for e in endorsers
    ]
    return members


def save_endorsers(settings: Settings, endorsers: list[EndorserRecord], threshold: int) -> None:
    write_json(
        settings.data_dir / CONSORTIUM_RECORD,
        {"threshold": threshold, "endorsers": [asdict(e) for e in endorsers]},
    )


def load_endorsers(settings: Settings) -> list[EndorserRecord]:
    """The recorded endorsers ([] when no consortium was deployed here)."""
    doc = read_json(settings.data_dir / CONSORTIUM_RECORD)
    if doc is None:
        return []
    try:
        return [EndorserRecord(**e) for e in doc["endorsers"]]
    except (KeyError, TypeError) as exc:
        raise StorageError(f"{settings.data_dir / CONSORTIUM_RECORD} is corrupt: {exc}") from exc
