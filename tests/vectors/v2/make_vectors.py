"""Regenerate tests/vectors/v2/: a consortium chain saved as an anvil state, a real version 2
certificate anchored on it with real endorsements, and one forgery of it per file
(index.json says the outcome every verifier must reach, and why).

    PYTHONPATH=. .venv/bin/python tests/vectors/v2/make_vectors.py

Run it only to change the vectors; they are golden. The chain: a ConsortiumRegistry (the
published build) with a notary, four endorsers (policy 2) and three DEPOSITOR keys (two of
the studio, one of another studio); a quorum-approved change removes the fourth endorser
and one of the studio's keys (3 endorsers left, k = 2); then a batch of five files, four
signed by depositor keys (the studio's, an unregistered one, the other studio's, the
removed one) and one not signed, is endorsed by two endorsers and anchored. Block times,
salts and keys are fixed, and ECDSA signatures are deterministic (RFC 6979), so a rerun
gives the same certificates.

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
from notary.core.certificate_v2 import DepositorSignature, MemberEndorsement, issue_v2
from notary.core.depositor import organization_id, signed_depositor
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
    "palette.txt": b"design 14: the palette\n",
    "unsigned.txt": b"design 15: deposited without a signature\n",
}
STUDIO = "org:hz-kids-studio"
"""The studio's depositor identity (leaf value 5 of its unsigned deposits)."""
STUDIO_NAME = "杭州童装工作室"
OTHER_STUDIO = "org:copycat-studio"
OTHER_STUDIO_NAME = "仿冒童装公司"
MANIFEST = "bafkreib2v2consortiummanifestplaceholderforthevectors0000000"


def _key(name: str) -> LocalAccount:
    account: LocalAccount = Account.from_key(keccak(text=f"certificate v2 vectors: {name}"))
    return account


COURT = _key("internet court")
REGULATOR = _key("market regulator")
ASSOCIATION = _key("industry association")
FORMER = _key("former endorser")
STRANGER = _key("not a member")
STUDIO_KEY = _key("studio depositor key")
REMOVED_KEY = _key("studio depositor key, removed")
OTHER_KEY = _key("another studio's depositor key")
UNREGISTERED_KEY = _key("depositor key never registered")
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
        *(
            MemberChange(k.address, Role.DEPOSITOR, organization_id(STUDIO), STUDIO_NAME)
            for k in (STUDIO_KEY, REMOVED_KEY)
        ),
        MemberChange(
            OTHER_KEY.address, Role.DEPOSITOR, organization_id(OTHER_STUDIO), OTHER_STUDIO_NAME
        ),
    ]
    next_block()
    address = deploy_consortium(w3, funder, genesis, 2, rpc)
    writer = ConsortiumWriter(w3, address, notary, rpc)
    chain_id = writer.chain_id()
    removal = [MemberChange.remove(FORMER.address), MemberChange.remove(REMOVED_KEY.address)]
    _, now = writer.block(writer.latest_block_number())
    typed = eip712.config_change_typed_data(chain_id, address, removal, 2, 1, now + 3600)
    approvals = eip712.sorted_signatures(
        (s.address, eip712.sign(s, typed)) for s in (COURT, REGULATOR)
    )
    next_block()
    writer.change_config(removal, 2, 1, now + 3600, approvals)

    signers = {
        "design.txt": STUDIO_KEY,
        "sketch.txt": UNREGISTERED_KEY,
        "notes.txt": OTHER_KEY,
        "palette.txt": REMOVED_KEY,
    }

    def claim(sha256: bytes, sm3: bytes, digest: bytes) -> eip712.DepositClaim:
        return eip712.DepositClaim(sha256, sm3, digest, STUDIO)

    leaves, evidence, deposit_signatures = [], [], {}
    for i, name in enumerate(FILES):
        digest = hash_bytes(FILES[name])
        metadata = {"name": name, "size": len(FILES[name]), "media_type": "text/plain"}
        evidence.append(EvidenceRecord(digest.sha256, digest.sm3, metadata))
        signer = signers.get(name)
        md = metadata_digest(metadata)
        if signer is not None:
            deposit_signatures[name] = eip712.sign_deposit(
                signer, chain_id, address, claim(digest.sha256, digest.sm3, md)
            )
        leaves.append(
            Leaf(
                sha256=digest.sha256,
                sm3=digest.sm3,
                metadata_digest=md,
                depositor=STUDIO if signer is None else signed_depositor(STUDIO, signer.address),
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

    def certificate(i: int, signature: bytes | None = None) -> dict[str, Any]:
        """The real certificate of leaf `i` (its own depositor signature unless given)."""
        name = list(FILES)[i]
        signer = signers.get(name)
        signed = None
        if signer is not None:
            signed = DepositorSignature(
                signer.address,
                "0x" + organization_id(STUDIO).hex(),
                STUDIO_NAME,
                "0x" + (signature or deposit_signatures[name]).hex(),
            )
        cert = issue_v2(
            evidence[i],
            leaves[i],
            leaves[i].hash(),
            tree,
            record,
            registry_kind="consortium",
            batch_time=recorded.batch_time,
            threshold=recorded.threshold,
            endorsements=[
                entry(COURT, signatures[COURT.address]),
                entry(REGULATOR, signatures[REGULATOR.address]),
            ],
            depositor_signature=signed,
        )
        document: dict[str, Any] = json.loads(cert_format.dumps(cert))
        return document

    good = certificate(0)

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
    other_content = hash_bytes(b"another design altogether\n")
    over_other = eip712.sign_deposit(
        STUDIO_KEY,
        chain_id,
        address,
        claim(other_content.sha256, other_content.sm3, leaves[0].metadata_digest),
    )
    stripped = copy.deepcopy(good)
    stripped["depositor_signature"] = None
    studio_renamed = copy.deepcopy(good)
    studio_renamed["depositor_signature"]["organization"] = "最高人民法院"
    vectors = [
        Vector("valid", good, "design.txt", "valid", "the real certificate with its file"),
        Vector(
            "unsigned-deposit",
            certificate(4),
            "unsigned.txt",
            "valid",
            "a real certificate of a deposit without a depositor signature (depositor_signature "
            "null, the leaf names no signer): valid, the depositor stays the operator's word",
        ),
        Vector(
            "depositor-key-unregistered",
            certificate(1),
            "sketch.txt",
            "invalid",
            "a real certificate whose leaf is signed by a key that was never a DEPOSITOR",
        ),
        Vector(
            "depositor-key-of-another-organization",
            certificate(2),
            "notes.txt",
            "invalid",
            "a real certificate whose leaf is signed by a DEPOSITOR key of another organization",
        ),
        Vector(
            "depositor-key-removed-before-anchor",
            certificate(3),
            "palette.txt",
            "invalid",
            "a real certificate whose leaf is signed by a studio key removed by a quorum before "
            "the anchor",
        ),
        Vector(
            "depositor-signature-over-other-content",
            certificate(0, over_other),
            "design.txt",
            "invalid",
            "the studio key's real signature, of other content, in place of the leaf's",
        ),
        Vector(
            "depositor-signature-stripped",
            stripped,
            "design.txt",
            "invalid",
            "depositor_signature removed although the anchored leaf names its signer",
        ),
        Vector(
            "depositor-organization-renamed",
            studio_renamed,
            "design.txt",
            "invalid",
            "the depositor's organization name rewritten (the chain names the key otherwise)",
        ),
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
    return vectors, {v.file: FILES[v.file] for v in vectors if v.file is not None}


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
