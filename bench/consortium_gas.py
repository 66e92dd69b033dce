"""Gas per anchored deposit with consortium endorsement, beside v1 without endorsement.

    python bench/consortium_gas.py

Starts a private devnet in a temporary data directory, deploys EvidenceRegistry (v1, as
`notary deploy` does) and two ConsortiumRegistry instances, 2-of-3 and 5-of-7, and anchors
batches of 1, 100 and 10,000 leaves in each, in one run. Each consortium anchor carries
exactly k EIP-712 endorsements (notary.chain.eip712). Gas does not depend on the leaves,
only on the root and the leaf count, so random roots stand in for real trees. Every
registry anchors one warm-up batch first, so the figures are those of a registry in use
(the first anchor also pays for creating the log's storage).
"""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from notary.chain import eip712
from notary.chain.consortium import ConsortiumWriter, deploy_consortium
from notary.chain.eip712 import Batch, MemberChange, Role
from notary.chain.registry import RegistryWriter, connect
from notary.config import Settings
from notary.ops import devnet
from notary.ops.deploy import deploy
from notary.ops.keys import load_key

BATCH_SIZES = (1, 100, 10_000)
POLICIES = ((2, 3), (5, 7))
MANIFEST = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"  # CID-sized


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def consortium(
    rpc_url: str, notary: LocalAccount, k: int, n: int
) -> tuple[ConsortiumWriter, list[LocalAccount]]:
    endorsers = [Account.from_key(keccak(text=f"bench endorser {n}-{i}")) for i in range(n)]
    genesis = [MemberChange(notary.address, Role.NOTARY, keccak(text="operator"), "notary")]
    genesis += [
        MemberChange(e.address, Role.ENDORSER, keccak(text=f"org {i}"), f"endorser {i}")
        for i, e in enumerate(endorsers)
    ]
    w3 = connect(rpc_url)
    address = deploy_consortium(w3, notary, genesis, k, rpc_url)
    return ConsortiumWriter(w3, address, notary, rpc_url), endorsers[:k]


def endorsed_anchor_gas(writer: ConsortiumWriter, signers: list[LocalAccount], size: int) -> int:
    _, now = writer.block(writer.latest_block_number())
    batch = Batch(secrets.token_bytes(32), size, MANIFEST, now)
    chain_id = writer.chain_id()
    signatures = eip712.sorted_signatures(
        (s.address, eip712.sign_endorsement(s, chain_id, writer.address, batch)) for s in signers
    )
    return writer.anchor(batch, signatures).gas_used


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # the v1 registry, measured beside the consortia
            data_dir=Path(tmp),
            devnet_port=free_port(),
            ipfs_port=free_port(),
            consortium_endorsers=0,
        )
        devnet.up(settings)
        try:
            deployment = deploy(settings).deployment
            notary = load_key(settings.notary_key_path, settings)
            v1 = RegistryWriter(connect(deployment.rpc_url), deployment.registry, notary)
            v1.anchor(secrets.token_bytes(32), 1, MANIFEST)  # warm-up
            consortia = {
                f"{k}-of-{n}": consortium(deployment.rpc_url, notary, k, n) for k, n in POLICIES
            }
            for writer, signers in consortia.values():
                endorsed_anchor_gas(writer, signers, 1)  # warm-up
            print(f"machine: {os.cpu_count()} cores, anvil devnet (chain {deployment.chain_id})")
            print("gas per anchor (gas per deposit), manifest of a CID's length:")
            header = f"{'batch size':>10} {'v1, no endorsement':>22}"
            header += "".join(f" {name + ' endorsed':>22}" for name in consortia)
            print(header)
            for size in BATCH_SIZES:
                row = [v1.anchor(secrets.token_bytes(32), size, MANIFEST).gas_used]
                row += [endorsed_anchor_gas(w, s, size) for w, s in consortia.values()]
                print(f"{size:>10,}" + "".join(f" {g:>10,} ({g / size:>8,.1f})" for g in row))
        finally:
            devnet.down(settings)


if __name__ == "__main__":
    main()
