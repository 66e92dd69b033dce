"""Regenerate tests/vectors/v2/: a consortium chain saved as an anvil state, a real version 2
certificate anchored on it with real endorsements, and one forgery of it per file
(index.json says the outcome every verifier must reach, and why).

    PYTHONPATH=. .venv/bin/python tests/vectors/v2/make_vectors.py

Run it only to change the vectors; they are golden. The chain: a ConsortiumRegistry (the
published build) with a notary and four endorsers, policy 2; a quorum-approved change
removes the fourth endorser (3 endorsers left, k = 2); then a batch of three files is
endorsed by two of them and anchored. Block times, salts and keys are fixed, and ECDSA
signatures are deterministic (RFC 6979), so a rerun gives the same certificates.

`scenario` is also what tests/integration/test_verify_v2.py runs on the session anvil
(times from that chain), so the vectors and the test build the same kinds of forgery.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from notary.chain import eip712
from notary.chain.artifact import consortium_build
from notary.chain.consortium import ConsortiumWriter, deploy_consortium
from notary.chain.eip712 import Batch, MemberChange, Role
from notary.chain.registry import connect
from notary.core import certificate as cert_format
from notary.core.certificate import AnchorRecord, EvidenceRecord
from notary.core.certificate_v2 import MemberEndorsement, issue_v2
from notary.core.hashing import hash_bytes
from notary.core.leaf import Leaf, metadata_digest
from notary.core.merkle import build_tree
from notary.ops.devnet import rpc_call
from notary.ops.keys import DEV_MNEMONIC, dev_account
from notary.ops.toolchain import anvil_binary

HERE = Path(__file__).resolve().parent
CHAIN_ID = 31337
GENESIS_TIME = 1_810_000_000
FILES = {
    "design.txt": "小熊连衣裙 design 11: consortium batch\n".encode(),
    "sketch.txt": b"design 12: the sketch\n",
    "notes.txt": b"design 13: notes\n",
}
MANIFEST = "bafkreib2v2consortiummanifestplaceholderforthevectors0000000"


def _key(name: str) -> LocalAccount:
    account: LocalAccount = Account.from_key(keccak(text=f"certificate v2 vectors: {name}"))
    return account


COURT = _key("internet court")
REGULATOR = _key("market regulator")
ASSOCIATION = _key("industry association")
FORMER = _key("former endorser")
STRANGER = _key("not a member")
ORGS = {
    COURT.address: "某互联网法院",
    REGULATOR.address: "市场监督管理局",
    ASSOCIATION.address: "童装行业协会",
    FORMER.address: "已退出的公证处",
}


def org_id(name: str) -> bytes:
    return keccak(text=name)


@dataclass(frozen=True)
class Vector:
    name: str
    document: dict[str, Any]
    file: str | None
    outcome: str
    why: str


def scenario(
    rpc: str, funder: LocalAccount, notary: LocalAccount, next_block: Callable[[], None]
) -> tuple[list[Vector], dict[str, bytes]]:
    """Deploy, reconfigure, endorse, anchor and issue on the chain at `rpc`; return the
    valid certificate and its forgeries, and the files. `next_block` is called before each
    transaction (the generator fixes block times with it)."""
    w3 = connect(rpc)
    genesis = [
        MemberChange(notary.address, Role.NOTARY, org_id("公证处运营方"), "公证处运营方"),
        *(
            MemberChange(a.address, Role.ENDORSER, org_id(ORGS[a.address]), ORGS[a.address])
            for a in (COURT, REGULATOR, ASSOCIATION, FORMER)
        ),
    ]
    next_block()
    address = deploy_consortium(w3, funder, genesis, 2, rpc)
    writer = ConsortiumWriter(w3, address, notary, rpc)
    chain_id = writer.chain_id()
    removal = [MemberChange.remove(FORMER.address)]
    _, now = writer.block(writer.latest_block_number())
    typed = eip712.config_change_typed_data(chain_id, address, removal, 2, 1, now + 3600)
    approvals = eip712.sorted_signatures(
        (s.address, eip712.sign(s, typed)) for s in (COURT, REGULATOR)
    )
    next_block()
    writer.change_config(removal, 2, 1, now + 3600, approvals)

    leaves, evidence = [], []
    for i, name in enumerate(FILES):
        digest = hash_bytes(FILES[name])
        metadata = {"name": name, "size": len(FILES[name]), "media_type": "text/plain"}
        evidence.append(EvidenceRecord(digest.sha256, digest.sm3, metadata))
        leaves.append(
            Leaf(
                sha256=digest.sha256,
                sm3=digest.sm3,
                metadata_digest=metadata_digest(metadata),
                depositor="杭州童装工作室 (studio-0011)",
                salt=hashlib.sha256(b"v2 salt %d" % i).digest(),
            )
        )
    tree = build_tree([leaf.hash() for leaf in leaves])
    _, now = writer.block(writer.latest_block_number())
    batch = Batch(tree.root, len(leaves), MANIFEST, now)

    def endorse(signer: LocalAccount, b: Batch = batch, cid: int = chain_id) -> str:
        return "0x" + eip712.sign_endorsement(signer, cid, address, b).hex()

    signatures = {a.address: endorse(a) for a in (COURT, REGULATOR)}
    next_block()
    anchored = writer.anchor(
        batch, eip712.sorted_signatures((k, bytes.fromhex(v[2:])) for k, v in signatures.items())
    )
    a = anchored.anchor
    record = AnchorRecord(
        chain_id=chain_id,
        registry=to_checksum_address(address),
        registry_code_hash=consortium_build().runtime_code_hash,
        root=tree.root,
        sequence=a.sequence,
        leaf_count=a.leaf_count,
        notary=to_checksum_address(a.notary),
        manifest=a.manifest,
        tx_hash=anchored.tx_hash,
        block_number=a.block_number,
        block_hash=anchored.block_hash,
        block_time=a.timestamp,
    )

    def entry(account: LocalAccount, signature: str, org: str | None = None) -> MemberEndorsement:
        name = org or ORGS.get(account.address, "冒名机构")
        return MemberEndorsement(account.address, "0x" + org_id(name).hex(), name, signature)

    recorded = writer.endorsement_of(tree.root)
    cert = issue_v2(
        evidence[0],
        leaves[0],
        leaves[0].hash(),
        tree,
        record,
        registry_kind="consortium",
        batch_time=recorded.batch_time,
        threshold=recorded.threshold,
        endorsements=[
            entry(COURT, signatures[COURT.address]),
            entry(REGULATOR, signatures[REGULATOR.address]),
        ],
    )
    good = json.loads(cert_format.dumps(cert))

    def with_endorsements(*entries: MemberEndorsement, threshold: int = 2) -> dict[str, Any]:
        doc = copy.deepcopy(good)
        ordered = sorted(entries, key=lambda e: int(e.member, 16))
        doc["anchor"]["endorsement"] = {
            "threshold": threshold,
            "endorsements": [
                {
                    "member": e.member,
                    "organization_id": e.organization_id,
                    "organization": e.organization,
                    "signature": e.signature,
                }
                for e in ordered
            ],
        }
        return doc

    court = entry(COURT, signatures[COURT.address])
    regulator = entry(REGULATOR, signatures[REGULATOR.address])
    other_root = Batch(keccak(text="another batch"), batch.leaf_count, MANIFEST, batch.batch_time)
    renamed = copy.deepcopy(good)
    for e in renamed["anchor"]["endorsement"]["endorsements"]:
        if e["member"] == REGULATOR.address:
            e["organization"] = "最高人民法院"
    vectors = [
        Vector("valid", good, "design.txt", "valid", "the real certificate with its file"),
        Vector("valid-without-file", good, None, "valid", "the real certificate, no file"),
        Vector(
            "non-member-signature",
            with_endorsements(court, entry(STRANGER, endorse(STRANGER))),
            "design.txt",
            "invalid",
            "a real signature of the batch by an account that was never a member",
        ),
        Vector(
            "duplicate-endorser",
            with_endorsements(court, court),
            "design.txt",
            "invalid",
            "the same member's endorsement twice, counted as two",
        ),
        Vector(
            "member-removed-before-anchor",
            with_endorsements(court, regulator, entry(FORMER, endorse(FORMER))),
            "design.txt",
            "invalid",
            "a real signature of the batch by an endorser removed by a quorum before the anchor",
        ),
        Vector(
            "threshold-lowered",
            with_endorsements(court, regulator, threshold=1),
            "design.txt",
            "invalid",
            "anchor.endorsement.threshold 1, the policy at the anchor's block was 2",
        ),
        Vector(
            "endorsement-of-another-root",
            with_endorsements(court, entry(REGULATOR, endorse(REGULATOR, other_root))),
            "design.txt",
            "invalid",
            "a member's real signature, of another batch root",
        ),
        Vector(
            "endorsement-for-another-chain",
            with_endorsements(court, entry(REGULATOR, endorse(REGULATOR, batch, 1))),
            "design.txt",
            "invalid",
            "a member's real signature of this batch under the domain of chain id 1",
        ),
        Vector(
            "organization-renamed",
            renamed,
            "design.txt",
            "invalid",
            "an endorser's organization name rewritten (the chain names it otherwise)",
        ),
    ]
    return vectors, {"design.txt": FILES["design.txt"]}


def main() -> None:
    port = 19545 + os.getpid() % 1000
    rpc = f"http://127.0.0.1:{port}"
    state = HERE / "chain-state.json"
    state.unlink(missing_ok=True)
    anvil = subprocess.Popen(
        [
            *(str(anvil_binary()), "--port", str(port), "--chain-id", str(CHAIN_ID)),
            *("--mnemonic", DEV_MNEMONIC, "--timestamp", str(GENESIS_TIME)),
            *("--dump-state", str(state)),
        ],
        stdout=subprocess.DEVNULL,
    )
    ticks = iter(range(12, 10_000, 12))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                rpc_call(rpc, "eth_chainId")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

        def next_block() -> None:
            rpc_call(rpc, "evm_setNextBlockTimestamp", [GENESIS_TIME + next(ticks)])

        vectors, files = scenario(rpc, dev_account(0), dev_account(1), next_block)
    finally:
        anvil.send_signal(signal.SIGTERM)
        anvil.wait(30)
    index = []
    for v in vectors:
        text = json.dumps(v.document, indent=2, ensure_ascii=False) + "\n"
        (HERE / f"{v.name}.cert.json").write_text(text, "utf-8")
        index.append(
            {
                "certificate": f"{v.name}.cert.json",
                "file": v.file,
                "outcome": v.outcome,
                "why": v.why,
            }
        )
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    (HERE / "index.json").write_text(
        json.dumps(index, indent=1, ensure_ascii=False) + "\n", "utf-8"
    )
    print(f"wrote {len(index)} vectors and {state} ({state.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
