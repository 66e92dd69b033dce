"""The records `notary devnet` and `notary deploy` leave in the data directory: where the
devnet runs (devnet/devnet.json) and where the registry was deployed (deployment.json)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from notary.config import Settings
from notary.errors import StorageError
from notary.files import read_json, write_json

DEVNET_RECORD = "devnet/devnet.json"
DEPLOYMENT_RECORD = "deployment.json"


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
    kind: str = "evidence"
    """"evidence" (EvidenceRegistry, one operator) or "consortium" (ConsortiumRegistry)."""


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
