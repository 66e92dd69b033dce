"""Signing keys: loaded from files, never logged, never the public devnet keys in production.

A key file holds one hex private key. Files are created with mode 0600. The anvil devnet's
mnemonic is public; accounts derived from it are accepted only in dev mode.
"""

from __future__ import annotations

import os
import secrets
from functools import cache
from pathlib import Path
from typing import Final

from eth_account import Account
from eth_account.signers.local import LocalAccount

from notary.config import Settings
from notary.errors import ConfigError, StorageError

DEV_MNEMONIC: Final = "test test test test test test test test test test test junk"
"""The public mnemonic anvil funds by default. Never protects anything."""
DEV_ACCOUNTS_CHECKED: Final = 20


@cache
def dev_addresses() -> frozenset[str]:
    """Addresses of the first DEV_ACCOUNTS_CHECKED accounts of the public dev mnemonic."""
    Account.enable_unaudited_hdwallet_features()
    return frozenset(
        Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}").address
        for i in range(DEV_ACCOUNTS_CHECKED)
    )


def dev_account(index: int = 0) -> LocalAccount:
    """Account `index` of the public dev mnemonic (anvil funds the first ten)."""
    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(
        DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}"
    )
    return account


def load_key(path: Path, settings: Settings) -> LocalAccount:
    """Load the account whose private key is in `path`; refuse dev keys in production."""
    try:
        text = path.read_text("ascii").strip()
    except FileNotFoundError:
        raise ConfigError(f"key file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read key file {path}: {type(exc).__name__}") from exc
    try:
        account: LocalAccount = Account.from_key(text)
    except (ValueError, TypeError):
        # never echo the file's content: it may be a real key with a typo
        raise ConfigError(f"key file {path} does not hold a hex private key") from None
    if settings.mode != "dev" and account.address in dev_addresses():
        raise ConfigError(f"key file {path} holds a public devnet key; refused outside dev mode")
    return account


def write_key(path: Path, account: LocalAccount) -> None:
    """Store a private key with mode 0600 (created exclusively: never overwrites)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(account.key.hex() + "\n")
    except FileExistsError:
        raise StorageError(f"{path} already exists; refusing to overwrite a key") from None
    except OSError as exc:
        raise StorageError(f"cannot write key file {path}: {exc}") from exc


def ensure_dev_keys(settings: Settings) -> tuple[LocalAccount, LocalAccount]:
    """(admin, notary) for the devnet: admin is dev account 0; notary is a fresh random key."""
    if settings.mode != "dev":
        raise ConfigError("devnet keys are only made in dev mode")
    if not settings.admin_key_path.exists():
        write_key(settings.admin_key_path, dev_account(0))
    if not settings.notary_key_path.exists():
        write_key(settings.notary_key_path, Account.from_key(secrets.token_bytes(32)))
    return load_key(settings.admin_key_path, settings), load_key(settings.notary_key_path, settings)


def load_depositor_key(path: Path) -> LocalAccount:
    """A depositor's signing key from `path` (hex private key), which only its owner may
    read: a key file readable by group or others is refused (chmod 600), as ssh refuses
    such identity files. Raises ConfigError, never echoing the file's content."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"key file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read key file {path}: {type(exc).__name__}") from exc
    if mode & 0o077:
        raise ConfigError(
            f"key file {path} is readable by others (mode {mode & 0o777:o}): run chmod 600 {path}"
        )
    try:
        text = path.read_text("ascii").strip()
        account: LocalAccount = Account.from_key(text)
    except (OSError, UnicodeDecodeError, ValueError, TypeError):
        raise ConfigError(f"key file {path} does not hold a hex private key") from None
    return account
