"""Small JSON records in the data directory (devnet, deployment), written atomically."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from notary.config import Settings
from notary.errors import ConfigError, StorageError

DEVNET_RECORD = "devnet/devnet.json"
DEPLOYMENT_RECORD = "deployment.json"


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (temp file, fsync, rename): never half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc}") from exc


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write a JSON record atomically."""
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
    write_text_atomic(path, text + "\n")


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object at `path`, or None if the file does not exist."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc}") from exc
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StorageError(f"{path} is corrupt: {exc}") from exc
    if not isinstance(loaded, dict):
        raise StorageError(f"{path} is corrupt: not a JSON object")
    return loaded


@dataclass(frozen=True)
class Deployment:
    """Where the registry is, as `notary deploy` recorded it."""

    chain_id: int
    registry: str
    tx_hash: str
    block_number: int
    runtime_code_hash: str
    admin: str
    notary: str
    rpc_url: str


def save_deployment(settings: Settings, deployment: Deployment) -> Path:
    path = settings.data_dir / DEPLOYMENT_RECORD
    write_json(path, asdict(deployment))
    return path


def load_deployment(settings: Settings) -> Deployment | None:
    doc = read_json(settings.data_dir / DEPLOYMENT_RECORD)
    if doc is None:
        return None
    try:
        return Deployment(**doc)
    except TypeError as exc:
        raise StorageError(f"{settings.data_dir / DEPLOYMENT_RECORD} is corrupt: {exc}") from exc


def _from_record(
    given: str | None, setting: str | None, settings: Settings, key: str, missing: str
) -> str:
    """The value given, else the NOTARY_* setting, else the devnet record's `key`."""
    if given:
        return given
    if setting:
        return setting
    record = read_json(settings.data_dir / DEVNET_RECORD)
    if record and isinstance(record.get(key), str):
        return str(record[key])
    raise ConfigError(f"{missing} (no devnet record in {settings.data_dir})")


def resolve_rpc_url(settings: Settings, given: str | None = None) -> str:
    """RPC URL: the one given, else NOTARY_RPC_URL, else the devnet record."""
    return _from_record(
        given,
        settings.rpc_url,
        settings,
        "rpc_url",
        "no RPC URL: pass --rpc, set NOTARY_RPC_URL (or NOTARY_DATA_DIR to the "
        "devnet's data dir), or `notary devnet up`",
    )


def resolve_registry(settings: Settings, given: str | None = None) -> str:
    """Registry address: the one given, else NOTARY_REGISTRY, else the deployment record."""
    if given:
        return given
    if settings.registry:
        return settings.registry
    deployment = load_deployment(settings)
    if deployment is None:
        raise ConfigError(
            f"no registry: no deployment record in {settings.data_dir.resolve()}; "
            "run `notary deploy`, or set NOTARY_REGISTRY (or NOTARY_DATA_DIR)"
        )
    return deployment.registry


def resolve_ipfs_api(settings: Settings, given: str | None = None) -> str:
    """IPFS RPC URL: the one given, else NOTARY_IPFS_API, else the devnet record."""
    return _from_record(
        given,
        settings.ipfs_api,
        settings,
        "ipfs_api",
        "no IPFS node: set NOTARY_IPFS_API, or `notary devnet up`",
    )
