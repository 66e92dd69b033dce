"""Keys: the public devnet keys are refused outside dev mode; key material is never echoed."""

from __future__ import annotations

import stat

import pytest
from eth_account import Account

from notary.config import Settings
from notary.errors import ConfigError, StorageError
from notary.ops.keys import dev_account, ensure_dev_keys, load_key, write_key


def test_dev_key_refused_in_production(tmp_path) -> None:
    path = tmp_path / "k"
    write_key(path, dev_account(3))
    assert load_key(path, Settings(data_dir=tmp_path, mode="dev")).address == dev_account(3).address
    with pytest.raises(ConfigError, match="public devnet key"):
        load_key(path, Settings(data_dir=tmp_path, mode="production"))


def test_fresh_key_accepted_in_production_and_stored_private(tmp_path) -> None:
    account = Account.create()
    path = tmp_path / "keys" / "notary.key"
    write_key(path, account)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path, Settings(data_dir=tmp_path, mode="production")).address == account.address
    with pytest.raises(StorageError):
        write_key(path, Account.create())  # never overwrites a key


def test_bad_key_file_message_does_not_echo_the_content(tmp_path) -> None:
    path = tmp_path / "k"
    secret = "0x" + "ab" * 31 + "zz"
    path.write_text(secret)
    with pytest.raises(ConfigError) as raised:
        load_key(path, Settings(data_dir=tmp_path))
    assert secret not in str(raised.value) and "ab" * 8 not in str(raised.value)
    with pytest.raises(ConfigError, match="does not exist"):
        load_key(tmp_path / "missing", Settings(data_dir=tmp_path))


def test_dev_keys_only_in_dev_mode(tmp_path) -> None:
    with pytest.raises(ConfigError):
        ensure_dev_keys(Settings(data_dir=tmp_path, mode="production"))
    admin, notary = ensure_dev_keys(Settings(data_dir=tmp_path))
    assert admin.address == dev_account(0).address
    assert notary.address != admin.address
    again = ensure_dev_keys(Settings(data_dir=tmp_path))
    assert again[1].address == notary.address  # stable across runs
