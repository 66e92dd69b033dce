"""`notary deploy`: put the published registry build on a chain, once.

Reuses the recorded deployment when the chain still has it (same chain id, published code
at the address); deploys anew when there is no record or the chain lost it (a reset
devnet). Grants NOTARY_ROLE to the notary account and, on the devnet, funds it.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import Wei

from notary.chain.artifact import registry_build
from notary.chain.errors import chain_errors
from notary.chain.registry import NOTARY_ROLE, RegistryWriter, connect, deploy_registry
from notary.chain.transactions import send
from notary.config import Settings
from notary.errors import ConfigError
from notary.ops.deployment import Deployment, load_deployment, save_deployment
from notary.ops.endpoints import resolve_rpc_url
from notary.ops.keys import ensure_dev_keys, load_key

DEV_NOTARY_FUNDING_WEI = 100 * 10**18
"""What the devnet admin sends the fresh notary key to pay for anchors."""


@dataclass(frozen=True)
class DeployResult:
    deployment: Deployment
    reused: bool


def _keys(settings: Settings) -> tuple[LocalAccount, LocalAccount]:
    if settings.mode == "dev":
        return ensure_dev_keys(settings)
    return load_key(settings.admin_key_path, settings), load_key(settings.notary_key_path, settings)


def _still_there(w3: Web3, record: Deployment, rpc_url: str) -> bool:
    with chain_errors(rpc_url):
        if int(w3.eth.chain_id) != record.chain_id:
            return False
        code = bytes(w3.eth.get_code(Web3.to_checksum_address(record.registry)))
    return bool(code) and code == registry_build().runtime_code


def _fund(w3: Web3, admin: LocalAccount, notary: LocalAccount, rpc_url: str) -> None:
    with chain_errors(rpc_url):
        if w3.eth.get_balance(notary.address) >= DEV_NOTARY_FUNDING_WEI // 10:
            return

    send(w3, admin, {"to": notary.address, "value": Wei(DEV_NOTARY_FUNDING_WEI)}, rpc_url)


def deploy(settings: Settings, rpc_url: str | None = None) -> DeployResult:
    """Deploy (or reuse) the registry; write the deployment record."""
    url = resolve_rpc_url(settings, rpc_url)
    admin, notary = _keys(settings)
    w3 = connect(url)
    record = load_deployment(settings)
    if record is not None and _still_there(w3, record, url):
        writer = RegistryWriter(w3, record.registry, admin, url)
        if not writer.has_role(NOTARY_ROLE, notary.address):
            writer.grant_role(NOTARY_ROLE, notary.address)
        return DeployResult(record, reused=True)
    with chain_errors(url):
        chain_id = int(w3.eth.chain_id)
    if settings.mode == "dev":
        if chain_id != settings.devnet_chain_id:
            raise ConfigError(
                f"dev mode deploys only to the devnet (chain id "
                f"{settings.devnet_chain_id}); this chain is {chain_id}"
            )
        _fund(w3, admin, notary, url)
    receipt = deploy_registry(w3, admin, admin.address, url)
    address = receipt["contractAddress"]
    if address is None:
        raise ConfigError("deployment receipt carries no contract address")
    writer = RegistryWriter(w3, address, admin, url)
    writer.grant_role(NOTARY_ROLE, notary.address)
    deployment = Deployment(
        chain_id=chain_id,
        registry=address,
        tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
        block_number=int(receipt["blockNumber"]),
        runtime_code_hash="0x" + writer.code_hash().hex(),
        admin=admin.address,
        notary=notary.address,
        rpc_url=url,
    )
    save_deployment(settings, deployment)
    return DeployResult(deployment, reused=False)
