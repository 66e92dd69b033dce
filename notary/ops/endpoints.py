"""Where the chain, the registry and the IPFS node are: what was given, else the NOTARY_*
setting, else the records of `notary devnet` and `notary deploy` (notary.ops.deployment)."""

from __future__ import annotations

from notary.chain.artifact import published_code_hashes
from notary.chain.registry import connect_reader
from notary.config import Settings
from notary.errors import ChainError, ConfigError
from notary.files import read_json, write_json
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


REGISTRY_KINDS = "registry-kinds.json"
"""Registry address -> kind, as this data directory last read them from the chain."""


def resolve_registry_kind(settings: Settings, rpc_url: str, registry: str) -> str:
    """Which registry `registry` is: "consortium" (ConsortiumRegistry: anchors need k
    endorsements) or "evidence" (the single-operator EvidenceRegistry).

    The chain decides, not NOTARY_CONSORTIUM_ENDORSERS (which says only what `notary deploy`
    deploys): the deployment record when it names this address, else the runtime code at the
    address compared with the published builds, remembered in <data>/registry-kinds.json so
    that a process started while the chain is down (the anchoring process restarted during
    an outage) still knows. Only with neither a record nor an answer does the setting
    decide. Code that is neither build is a ConfigError."""
    record = load_deployment(settings)
    if record is not None and record.registry.lower() == registry.lower():
        return record.kind
    known_path = settings.data_dir / REGISTRY_KINDS
    known = read_json(known_path) or {}
    try:
        code_hash = connect_reader(rpc_url, registry, retries=False).code_hash()
    except ChainError:
        remembered = known.get(registry.lower())
        if remembered in ("consortium", "evidence"):
            return str(remembered)
        return "consortium" if settings.consortium else "evidence"
    if code_hash in published_code_hashes(2):
        kind = "consortium"
    elif code_hash in published_code_hashes(1):
        kind = "evidence"
    else:
        raise ConfigError(
            f"{registry} on {rpc_url} holds neither a published EvidenceRegistry nor a "
            "ConsortiumRegistry build (NOTARY_REGISTRY, or redeploy with `notary deploy`)"
        )
    if known.get(registry.lower()) != kind:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        write_json(known_path, {**known, registry.lower(): kind})
    return kind
