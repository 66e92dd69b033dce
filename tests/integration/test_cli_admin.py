"""`notary admin` key management and its database report, and `notary devnet status`'s
IPFS report, through the real entry point."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from notary.config import Settings
from notary.ops import devnet
from tests.conftest import cli_env, run_cli

NOTARY = str(Path(sys.executable).parent / "notary")


def _admin(settings: Settings, database_url: str) -> subprocess.CompletedProcess[str]:
    """`notary admin list-orgs` with NOTARY_DATABASE_URL set (run_cli passes no URL)."""
    return subprocess.run(
        [NOTARY, "admin", "list-orgs"],
        capture_output=True,
        text=True,
        env={**cli_env(settings), "NOTARY_DATABASE_URL": database_url},
        timeout=120,
        check=False,
    )


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def _keys(settings: Settings, slug: str) -> dict[str, dict[str, str | None]]:
    listed = json.loads(_ok(run_cli(settings, "admin", "list-keys", slug, "--json")).stdout)
    return {row["prefix"]: row for row in listed["keys"]}


def test_admin_manages_keys_and_says_which_database(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    made = _ok(run_cli(settings, "admin", "create-org", "hz-studio", "--name", "HZ studio"))
    where = f"data directory {(tmp_path / 'data').resolve()}"
    assert where in made.stderr
    assert f"sqlite:///{tmp_path / 'data' / 'notary.sqlite3'}" in made.stderr

    lasting = _ok(run_cli(settings, "admin", "create-key", "hz-studio", "--label", "ci"))
    brief = _ok(run_cli(settings, "admin", "create-key", "hz-studio", "--expires-in", "30d"))
    secret = lasting.stdout.strip()
    assert re.fullmatch(r"nk_[a-z0-9]{12}_\S{43}", secret)
    assert "expires" in brief.stderr
    prefix, brief_prefix = secret.split("_")[1], brief.stdout.split("_")[1]
    keys = _keys(settings, "hz-studio")
    assert set(keys) == {prefix, brief_prefix}
    assert keys[prefix]["expires_at"] is None and keys[prefix]["label"] == "ci"
    assert keys[brief_prefix]["expires_at"] is not None
    table = _ok(run_cli(settings, "admin", "list-keys", "hz-studio")).stdout
    assert secret not in table and prefix in table  # secrets are shown once only

    rotated = _ok(run_cli(settings, "admin", "rotate-key", prefix, "--grace", "0"))
    successor = rotated.stdout.strip().split("_")[1]
    keys = _keys(settings, "hz-studio")
    assert keys[prefix]["state"] == "expired"  # no grace: the old key ends now
    assert keys[successor]["state"] == "active"

    _ok(run_cli(settings, "admin", "revoke-key", successor))
    refused = run_cli(settings, "admin", "rotate-key", successor)
    assert refused.returncode != 0 and "revoked" in refused.stderr
    bad = run_cli(settings, "admin", "create-key", "hz-studio", "--expires-in", "soon")
    assert bad.returncode != 0 and "duration" in bad.stderr


def test_admin_refuses_to_create_an_empty_database_elsewhere(tmp_path) -> None:
    elsewhere = tmp_path / "elsewhere" / "notary.sqlite3"
    settings = Settings(data_dir=tmp_path / "data")
    result = _admin(settings, f"sqlite:///{elsewhere}")
    assert result.returncode != 0
    assert "outside the data directory" in result.stderr
    assert "Traceback" not in result.stderr
    assert not elsewhere.parent.exists()  # nothing was created

    hidden = _admin(settings, "postgresql+psycopg://notary:s3cret-pw@127.0.0.1:1/notary")
    assert "postgresql+psycopg://notary:***@127.0.0.1:1/notary" in hidden.stderr
    assert "s3cret-pw" not in hidden.stderr + hidden.stdout


@pytest.mark.devnet
def test_devnet_status_reports_the_ipfs_node(chain) -> None:
    report = json.loads(_ok(run_cli(chain.settings, "devnet", "status", "--json")).stdout)
    api = devnet.status(chain.settings).ipfs_api
    expected = httpx.post(api + "/api/v0/id").json()
    assert report["running"] is True
    assert report["ipfs"]["running"] is True
    assert report["ipfs"]["api"] == api
    assert report["ipfs"]["peer_id"] == expected["ID"]
    assert report["ipfs"]["agent"] == expected["AgentVersion"]
    text = _ok(run_cli(chain.settings, "devnet", "status")).stdout
    assert f"IPFS node: {api}" in text and expected["ID"] in text
