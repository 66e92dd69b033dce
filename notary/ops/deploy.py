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

from notary.chain.artifact import consortium_build, registry_build
from notary.chain.consortium import deploy_consortium
from notary.chain.errors import chain_errors
from notary.chain.registry import NOTARY_ROLE, RegistryWriter, connect, deploy_registry
from notary.chain.transactions import send
from notary.config import Settings
from notary.errors import ConfigError
from notary.ops import consortium
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


def _kind(settings: Settings) -> str:
    return "consortium" if settings.consortium else "evidence"


def _still_there(w3: Web3, record: Deployment, rpc_url: str, kind: str) -> bool:
    if record.kind != kind:
        return False  # consortium mode turned on or off: deploy the other registry
    build = consortium_build() if kind == "consortium" else registry_build()
    with chain_errors(rpc_url):
        if int(w3.eth.chain_id) != record.chain_id:
            return False
        code = bytes(w3.eth.get_code(Web3.to_checksum_address(record.registry)))
    return bool(code) and code == build.runtime_code


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
    kind = _kind(settings)
    if settings.consortium:
        consortium.check_policy(settings)
    record = load_deployment(settings)
    if record is not None and _still_there(w3, record, url, kind):
        if kind == "consortium":
            return DeployResult(record, reused=True)
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
    if kind == "consortium":
        return _deploy_consortium(settings, w3, admin, notary, url, chain_id)
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


def _deploy_consortium(
    settings: Settings,
    w3: Web3,
    admin: LocalAccount,
    notary: LocalAccount,
    url: str,
    chain_id: int,
) -> DeployResult:
    """A ConsortiumRegistry with the notary account and fresh endorsers as genesis members
    (the deployer, `admin`, gets no role: the registry has no admin)."""
    endorsers = [record for record, _ in consortium.ensure_endorsers(settings)]
    members = consortium.genesis(notary.address, endorsers)
    address = deploy_consortium(w3, admin, members, settings.consortium_threshold, url)
    with chain_errors(url):
        block = int(w3.eth.block_number)
        code_hash = bytes(Web3.keccak(bytes(w3.eth.get_code(Web3.to_checksum_address(address)))))
    consortium.save_endorsers(settings, endorsers, settings.consortium_threshold)
    deployment = Deployment(
        chain_id=chain_id,
        registry=address,
        tx_hash="",
        block_number=block,
        runtime_code_hash="0x" + code_hash.hex(),
        admin=admin.address,
        notary=notary.address,
        rpc_url=url,
        kind="consortium",
    )
    save_deployment(settings, deployment)
    return DeployResult(deployment, reused=False)
