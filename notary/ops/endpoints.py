"""Where the chain, the registry and the IPFS node are: what was given, else the NOTARY_*
setting, else the records of `notary devnet` and `notary deploy` (notary.ops.deployment)."""

from __future__ import annotations

from notary.config import Settings
from notary.errors import ConfigError
from notary.files import read_json
from notary.ops.deployment import DEVNET_RECORD, load_deployment


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
