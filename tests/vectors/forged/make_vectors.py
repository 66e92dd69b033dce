"""Regenerate tests/vectors/forged/: a small chain saved as an anvil state, a real
certificate anchored on it, and one forgery of it per file (index.json says which outcome
every verifier must reach).

    .venv/bin/python tests/vectors/forged/make_vectors.py

Run it only to change the vectors; they are golden: the committed files are the reference,
and the tests load chain-state.json into anvil (--load-state) and check all three
verifiers against it. Block times are fixed (evm_setNextBlockTimestamp) and salts are
fixed, so a rerun with the same anvil gives the same files.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from notary.chain.artifact import registry_build
from notary.chain.registry import NOTARY_ROLE, RegistryWriter, connect
from notary.chain.transactions import send
from notary.core import certificate as cert_format
from notary.core.certificate import AnchorRecord, Certificate, EvidenceRecord
from notary.core.cid import PROFILE
from notary.core.hashing import hash_bytes
from notary.core.leaf import Leaf, metadata_digest
from notary.core.merkle import build_tree
from notary.core.unixfs import UnixfsHasher
from notary.ops.devnet import rpc_call
from notary.ops.keys import DEV_MNEMONIC, dev_account
from notary.ops.toolchain import anvil_binary

HERE = Path(__file__).resolve().parent
CHAIN_ID = 31337
GENESIS_TIME = 1_800_000_000
PORT = 18545 + os.getpid() % 1000
RPC = f"http://127.0.0.1:{PORT}"
FILES = {
    "design.txt": "小熊连衣裙 design 7: collar, sleeves, pocket\n".encode(),
    "sketch.txt": b"design 8: the sketch\n",
    "notes.txt": b"design 9: notes\n",
    "copy.txt": b"a file that was never deposited\n",
}


def _next_time(offset: int) -> None:
    rpc_call(RPC, "evm_setNextBlockTimestamp", [GENESIS_TIME + offset])


def _cid(data: bytes) -> str:
    hasher = UnixfsHasher()
    hasher.update(data)
    return hasher.cid()


def _deploy_look_alike(w3: Any, admin: Any) -> str:
    """The published creation code with one byte of the runtime's CBOR metadata flipped:
    it behaves exactly as the registry, but it is not the published build."""
    build = registry_build()
    creation = bytearray(build.bytecode)
    creation[-3] ^= 0xFF  # the runtime code is the tail of the creation code
    args = bytes(12) + bytes.fromhex(admin.address[2:])
    receipt = send(w3, admin, {"data": bytes(creation) + args}, RPC)  # type: ignore[typeddict-item]
    return str(receipt["contractAddress"])


def main() -> None:
    state = HERE / "chain-state.json"
    state.unlink(missing_ok=True)
    anvil = subprocess.Popen(
        [
            str(anvil_binary()),
            "--port",
            str(PORT),
            "--chain-id",
            str(CHAIN_ID),
            "--mnemonic",
            DEV_MNEMONIC,
            "--timestamp",
            str(GENESIS_TIME),
            "--dump-state",
            str(state),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                rpc_call(RPC, "eth_chainId")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        _build(HERE)
    finally:
        anvil.send_signal(signal.SIGTERM)
        anvil.wait(30)
    print(f"wrote {state} ({state.stat().st_size} bytes)")


def _build(out: Path) -> None:
    from notary.chain.registry import deploy_registry

    w3 = connect(RPC)
    admin, notary = dev_account(0), dev_account(1)
    _next_time(12)
    deployed = deploy_registry(w3, admin, admin.address, RPC)
    registry = str(deployed["contractAddress"])
    _next_time(24)
    RegistryWriter(w3, registry, admin, RPC).grant_role(NOTARY_ROLE, notary.address)
    _next_time(36)
    look_alike = _deploy_look_alike(w3, admin)
    _next_time(48)
    RegistryWriter(w3, look_alike, admin, RPC).grant_role(NOTARY_ROLE, notary.address)

    leaves, evidence = [], []
    for i, name in enumerate(["design.txt", "sketch.txt", "notes.txt"]):
        data = FILES[name]
        digest = hash_bytes(data)
        metadata = {
            "name": name,
            "size": len(data),
            "media_type": "text/plain",
            "cid": _cid(data),
            "cid_profile": PROFILE,
        }
        depositor = "杭州童装工作室 (studio-0007)"
        if name == "notes.txt":  # what canonical JSON and ABI encoding must get right
            metadata["title"] = 'notes \x7f DEL, 😀 astral, "quoted" \\ back\ttab\nline'
            metadata["tags"] = ["小熊", "é"]
            depositor = "studio 😀 0009"
        ev = EvidenceRecord(digest.sha256, digest.sm3, metadata)
        leaf = Leaf(
            sha256=digest.sha256,
            sm3=digest.sm3,
            metadata_digest=metadata_digest(metadata),
            depositor=depositor,
            salt=hashlib.sha256(b"salt %d" % i).digest(),
        )
        leaves.append(leaf)
        evidence.append(ev)
    tree = build_tree([leaf.hash() for leaf in leaves])
    manifest = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
    _next_time(60)
    anchored = RegistryWriter(w3, registry, notary, RPC).anchor(tree.root, len(leaves), manifest)
    _next_time(72)
    twin = RegistryWriter(w3, look_alike, notary, RPC).anchor(tree.root, len(leaves), manifest)

    a = anchored.anchor
    record = AnchorRecord(
        chain_id=CHAIN_ID,
        registry=to_checksum_address(registry),
        registry_code_hash=registry_build().runtime_code_hash,
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
    exotic = Certificate(
        evidence[2], leaves[2], leaves[2].hash(), tuple(tree.proof(leaves[2].hash())), record
    )
    cert = Certificate(
        evidence[0], leaves[0], leaves[0].hash(), tuple(tree.proof(leaves[0].hash())), record
    )
    for name in ("design.txt", "copy.txt"):
        (out / name).write_bytes(FILES[name])
    good = json.loads(cert_format.dumps(cert))
    look = copy.deepcopy(good)
    look["anchor"].update(
        registry=to_checksum_address(look_alike),
        tx_hash="0x" + twin.tx_hash.hex(),
        block_number=twin.anchor.block_number,
        block_hash="0x" + twin.block_hash.hex(),
        block_time=twin.anchor.timestamp,
        block_time_utc=cert_format.utc_text(twin.anchor.timestamp),
        registry_code_hash="0x"
        + keccak(bytes(w3.eth.get_code(to_checksum_address(look_alike)))).hex(),
    )
    _write_vectors(out, good, look, str(deployed["transactionHash"].hex()))
    _write_hostile(out, json.loads(cert_format.dumps(exotic)))


def _write_vectors(out: Path, good: dict[str, Any], look: dict[str, Any], deploy_tx: str) -> None:
    index: list[dict[str, Any]] = []

    def put(name: str, doc: dict[str, Any] | str, file: str | None, outcome: str, why: str) -> None:
        text = doc if isinstance(doc, str) else json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        (out / f"{name}.cert.json").write_text(text, "utf-8")
        index.append(
            {"certificate": f"{name}.cert.json", "file": file, "outcome": outcome, "why": why}
        )

    def forged(**changes: Any) -> dict[str, Any]:
        doc = copy.deepcopy(good)
        for path, value in changes.items():
            section, key = path.split("__")
            doc[section][key] = value
        return doc

    put("valid", good, "design.txt", "valid", "the real certificate with its file")
    put("valid-without-file", good, None, "valid", "the real certificate, no file")
    other = hashlib.sha256(FILES["copy.txt"]).hexdigest()
    swapped = forged(evidence__sha256=other, evidence__sm3=None)
    swapped["evidence"]["metadata"]["size"] = len(FILES["copy.txt"])
    put(
        "evidence-sha256-swapped",
        swapped,
        "copy.txt",
        "invalid",
        "evidence.sha256 replaced by the hash of a file never deposited, with that file",
    )
    put(
        "anchor-notary-rewritten",
        forged(anchor__notary=to_checksum_address("0x" + "42" * 20)),
        "design.txt",
        "invalid",
        "anchor.notary is not the account that anchored",
    )
    put(
        "anchor-manifest-rewritten",
        forged(anchor__manifest="bafkreiforgedmanifest"),
        "design.txt",
        "invalid",
        "anchor.manifest is not the one recorded on chain",
    )
    put(
        "anchor-leaf-count-rewritten",
        forged(anchor__leaf_count=4),
        "design.txt",
        "invalid",
        "anchor.leaf_count differs from anchorOf and the event",
    )
    put(
        "anchor-block-hash-rewritten",
        forged(anchor__block_hash="0x" + "ab" * 32),
        "design.txt",
        "invalid",
        "anchor.block_hash is not the hash of the anchoring block",
    )
    put(
        "registry-look-alike",
        look,
        "design.txt",
        "invalid",
        "a registry with other code (one metadata byte differs) that holds the same anchor",
    )
    look_claiming = copy.deepcopy(look)
    look_claiming["anchor"]["registry_code_hash"] = good["anchor"]["registry_code_hash"]
    put(
        "registry-look-alike-claims-published-hash",
        look_claiming,
        "design.txt",
        "invalid",
        "the look-alike registry, the certificate naming the published code hash",
    )
    put(
        "registry-code-hash-rewritten",
        forged(anchor__registry_code_hash="0x" + "11" * 32),
        "design.txt",
        "invalid",
        "anchor.registry_code_hash is not the published build's",
    )
    put(
        "tx-hash-unknown",
        forged(anchor__tx_hash="0x" + "77" * 32),
        "design.txt",
        "invalid",
        "anchor.tx_hash is a transaction the chain does not have",
    )
    put(
        "tx-hash-of-another-transaction",
        forged(anchor__tx_hash="0x" + deploy_tx.removeprefix("0x")),
        "design.txt",
        "invalid",
        "anchor.tx_hash is the registry's deployment",
    )
    put(
        "other-chain",
        forged(anchor__chain_id=1),
        "design.txt",
        "cannot_decide",
        "a certificate for chain 1, checked on a node of chain 31337",
    )
    put(
        "anchor-block-beyond-head",
        forged(anchor__block_number=1_000_000),
        "design.txt",
        "cannot_decide",
        "anchor.block_number is beyond the head of the chain: the node has not reached it",
    )
    put(
        "future-version",
        {**good, "version": 3},
        "design.txt",
        "cannot_decide",
        "a version this verifier does not know",
    )
    text = json.dumps(good, indent=2, ensure_ascii=False) + "\n"
    put(
        "proof-sibling-trailing-newline",
        text.replace(good["proof"][0] + '"', good["proof"][0] + '\\n"', 1),
        "design.txt",
        "invalid",
        "a proof sibling ending in a newline (Python's $ matched it)",
    )
    put(
        "evidence-sha256-trailing-newline",
        text.replace(good["evidence"]["sha256"] + '"', good["evidence"]["sha256"] + '\\n"', 1),
        "design.txt",
        "invalid",
        "evidence.sha256 ending in a newline",
    )
    put(
        "duplicate-key-notary",
        text.replace(
            '"notary": "',
            '"notary": "0x4242424242424242424242424242424242424242",\n    "notary": "',
            1,
        ),
        "design.txt",
        "invalid",
        "anchor.notary twice: a first-value parser reads a forged notary",
    )
    put(
        "integer-written-1.0",
        text.replace('"leaf_count": 3,', '"leaf_count": 3.0,', 1),
        "design.txt",
        "invalid",
        "anchor.leaf_count written as 3.0",
    )
    size = good["evidence"]["metadata"]["size"]
    put(
        "metadata-size-written-as-float",
        text.replace(f'"size": {size},', f'"size": {size}.0,', 1),
        "design.txt",
        "invalid",
        "evidence.metadata.size written with a decimal point",
    )
    notary = good["anchor"]["notary"]
    put(
        "notary-bad-eip55-checksum",
        forged(anchor__notary="0x" + notary[2:].swapcase()),
        "design.txt",
        "invalid",
        "anchor.notary in mixed case with a wrong EIP-55 checksum",
    )
    put(
        "nested-too-deep",
        "[" * 65 + "]" * 65 + "\n",
        None,
        "cannot_decide",
        "65 nested arrays: refused unread",
    )
    (out / "index.json").write_text(json.dumps(index, indent=2) + "\n", "utf-8")


def _write_hostile(out: Path, exotic: dict[str, Any]) -> None:
    """Vectors about reading the document; appended to index.json."""
    index = json.loads((out / "index.json").read_text("utf-8"))
    good = (out / "valid.cert.json").read_text("utf-8")

    def put(name: str, text: str | bytes, outcome: str, why: str) -> None:
        data = text.encode() if isinstance(text, str) else text
        (out / f"{name}.cert.json").write_bytes(data)
        index.append(
            {"certificate": f"{name}.cert.json", "file": None, "outcome": outcome, "why": why}
        )

    put(
        "valid-exotic-metadata",
        json.dumps(exotic, indent=2, ensure_ascii=False) + "\n",
        "valid",
        "metadata with DEL, astral, quotes, backslash, tab, newline; an astral depositor",
    )
    doc = json.loads(good)
    doc["leaf"]["values"][4] = "studio\u200b"
    put(
        "depositor-zero-width-space",
        json.dumps(doc, ensure_ascii=False),
        "invalid",
        "U+200B (Cf) in the depositor: not printable",
    )
    doc = json.loads(good)
    doc["evidence"]["metadata"]["title"] = "a\ud800"
    put("lone-surrogate-escape", json.dumps(doc), "invalid", 'an escaped lone surrogate "\\ud800"')
    put(
        "byte-order-mark",
        b"\xef\xbb\xbf" + good.encode(),
        "invalid",
        "UTF-8 with a byte order mark",
    )
    put("nan-number", good.replace('"leaf_count": 3,', '"leaf_count": NaN,', 1), "invalid", "NaN")
    put(
        "exponent-number",
        good.replace('"leaf_count": 3,', '"leaf_count": 3e0,', 1),
        "invalid",
        "an integer written with an exponent",
    )
    put(
        "version-2.0",
        good.replace('"version": 1,', '"version": 2.0,', 1),
        "invalid",
        "version written 2.0 is not an integer: not a newer version",
    )
    put(
        "future-version-with-float",
        good.replace('"version": 1,', '"version": 3,', 1).replace(
            '"leaf_count": 3,', '"leaf_count": 3.0,', 1
        ),
        "cannot_decide",
        "a newer version is not judged, whatever else it holds",
    )
    put(
        "raw-tab-in-string",
        good.replace('"design.txt"', '"design\t.txt"', 1),
        "invalid",
        "a raw control character inside a string",
    )
    put(
        "unclosed-deep",
        "[" * 70,
        "cannot_decide",
        "70 unclosed brackets: deeper than 64, refused unread",
    )
    put("unclosed-shallow", "[" * 10, "invalid", "10 unclosed brackets: not JSON")
    put("trailing-comma", good.replace('"version": 1,', '"version": 1,,', 1), "invalid", "not JSON")
    (out / "index.json").write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n", "utf-8")


if __name__ == "__main__":
    main()
