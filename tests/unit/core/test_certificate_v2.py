"""Certificate version 2 as a format: the golden vector round-trips, the reader tells the
versions apart, the builder refuses what could not verify, and the published v2 code hash
and worked example agree with the artifact, the independent code and docs/certificate-v2.md."""

from __future__ import annotations

import copy
import json
import re

import pytest
from eth_abi import encode
from eth_utils.crypto import keccak

from notary.chain.artifact import (
    PUBLISHED_CODE_HASHES,
    V2_BUILD_1_CODE_HASH,
    V2_REGISTRY_CODE_HASH,
    consortium_build,
    published_code_hashes,
)
from notary.core import certificate as cert_format
from notary.core import certificate_v2
from notary.core.certificate_v2 import CertificateV2, MemberEndorsement, issue_v2
from notary.core.merkle import MerkleTree, build_tree
from notary.errors import CertificateFormatError, UnsupportedVersionError, ValidationError
from notary.ops.toolchain import REPO_ROOT
from tests.conftest import VECTORS

V2 = VECTORS / "v2"
SPEC = (REPO_ROOT / "docs" / "certificate-v2.md").read_text("utf-8")


def golden_text() -> bytes:
    return (V2 / "valid.cert.json").read_bytes()


def golden() -> dict[str, object]:
    doc: dict[str, object] = json.loads(golden_text())
    return doc


def test_the_golden_v2_certificate_loads_and_round_trips_byte_for_byte() -> None:
    cert = certificate_v2.loads(golden_text())
    assert isinstance(cert, CertificateV2)
    assert cert.endorsement.threshold == 2 and len(cert.endorsement.endorsements) == 2
    assert cert_format.dumps(cert).encode() == golden_text()


def test_version_1_still_reads_as_version_1() -> None:
    v1 = (VECTORS / "certificate-v1.cert.json").read_bytes()
    cert = certificate_v2.loads(v1)
    assert type(cert) is cert_format.Certificate
    assert cert_format.dumps(cert).encode() == v1


def test_a_newer_version_is_unsupported_and_a_v2_without_endorsements_malformed() -> None:
    doc = golden()
    doc["version"] = 3
    with pytest.raises(UnsupportedVersionError):
        certificate_v2.loads(json.dumps(doc))
    v1_shaped = json.loads((VECTORS / "certificate-v1.cert.json").read_bytes())
    v1_shaped["version"] = 2
    with pytest.raises(CertificateFormatError, match="version 2 schema"):
        certificate_v2.loads(json.dumps(v1_shaped))


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("depositor_signature", "0x00"),
        ("signature", "0x" + "ab" * 64),
        ("member", "0x3509C2344c867ff14E63FEB8905F7697D7770aC0"),  # bad EIP-55
        ("organization", "名" * 43),  # 43 code points, 129 UTF-8 bytes
        ("threshold", 0),
        ("depositor_signature.signer", "0x359DF4B29b92B414b7DaC42519034f7e42cBD62f"),  # EIP-55
        ("depositor_signature.signature", "0x" + "AB" * 65),  # upper-case hex
        ("depositor_signature.organization", ""),
        ("depositor_signature.extra", "x"),
    ],
)
def test_malformed_v2_fields_are_refused(where: str, value: object) -> None:
    doc = copy.deepcopy(golden())
    anchor = doc["anchor"]
    assert isinstance(anchor, dict)
    first = anchor["endorsement"]["endorsements"][0]
    if where == "depositor_signature":
        doc[where] = value
    elif where.startswith("depositor_signature."):
        doc["depositor_signature"][where.split(".")[1]] = value
    elif where == "threshold":
        anchor["endorsement"]["threshold"] = value
    else:
        first[where] = value
    with pytest.raises(CertificateFormatError):
        certificate_v2.loads(json.dumps(doc, ensure_ascii=False))


def _parts() -> tuple[CertificateV2, list[MemberEndorsement]]:
    cert = certificate_v2.loads(golden_text())
    assert isinstance(cert, CertificateV2)
    return cert, list(cert.endorsement.endorsements)


def test_issue_v2_rebuilds_the_golden_certificate_from_its_parts() -> None:
    cert, entries = _parts()
    tree = _golden_tree()
    assert tree.root == cert.anchor.root
    again = issue_v2(
        cert.evidence,
        cert.leaf,
        cert.leaf_hash,
        tree,
        cert.anchor,
        registry_kind="consortium",
        batch_time=cert.batch_time,
        threshold=2,
        endorsements=[
            MemberEndorsement(e.member.lower(), e.organization_id, e.organization, e.signature)
            for e in reversed(entries)
        ],
        depositor_signature=cert.depositor_signature,
    )
    assert cert_format.dumps(again).encode() == golden_text()  # sorted, EIP-55 again


def _golden_tree() -> MerkleTree:
    """The golden batch's tree: its five leaves are those of the five real certificates."""
    real = (
        "valid",
        "unsigned-deposit",
        "depositor-key-unregistered",
        "depositor-key-of-another-organization",
        "depositor-key-removed-before-anchor",
    )
    leaves = [
        bytes.fromhex(
            json.loads((VECTORS / "v2" / f"{n}.cert.json").read_bytes())["leaf"]["hash"][2:]
        )
        for n in real
    ]
    return build_tree(leaves)


def test_issue_v2_refuses_what_could_not_be_a_v2_certificate() -> None:
    cert, entries = _parts()
    tree = _golden_tree()
    common = {"batch_time": cert.batch_time, "threshold": 2, "endorsements": entries}
    with pytest.raises(ValidationError, match="consortium"):
        issue_v2(
            cert.evidence, cert.leaf, cert.leaf_hash, tree, cert.anchor,
            registry_kind="evidence", **common,  # type: ignore[arg-type]
        )  # fmt: skip
    short = [MemberEndorsement(entries[0].member, entries[0].organization_id, "x", "0x1234")]
    with pytest.raises(ValidationError):
        issue_v2(
            cert.evidence, cert.leaf, cert.leaf_hash, tree, cert.anchor,
            registry_kind="consortium", batch_time=cert.batch_time, threshold=2,
            endorsements=short,
        )  # fmt: skip


def test_the_v2_code_hash_is_the_artifacts_the_documents_and_the_js_verifiers() -> None:
    shipped = consortium_build().runtime_code_hash
    assert shipped == V2_REGISTRY_CODE_HASH
    assert published_code_hashes(2) == frozenset({shipped, V2_BUILD_1_CODE_HASH})
    assert "0x" + V2_BUILD_1_CODE_HASH.hex() in SPEC  # build 1: its certificates stay valid
    assert shipped not in PUBLISHED_CODE_HASHES  # never accepted for version 1
    assert "0x" + shipped.hex() in SPEC
    js = (REPO_ROOT / "tests" / "js" / "verify_certificate.js").read_text("utf-8")
    assert "0x" + shipped.hex() in js and "0x" + V2_BUILD_1_CODE_HASH.hex() in js
    assert golden()["anchor"]["registry_code_hash"] == "0x" + shipped.hex()  # type: ignore[index]


def _stated(label: str) -> str:
    found = re.search(rf"\| {re.escape(label)} \| `(0x[0-9a-f]{{64}})` \|", SPEC)
    assert found, label
    return found.group(1)


def test_the_worked_example_recomputes_from_its_definition() -> None:
    doc = golden()
    a = doc["anchor"]
    assert isinstance(a, dict)
    domain_type = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    endorsement_type = keccak(
        text="Endorsement(bytes32 root,uint32 leafCount,string manifest,uint64 batchTime)"
    )
    separator = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                domain_type,
                keccak(text="NotaryConsortium"),
                keccak(text="1"),
                a["chain_id"],
                a["registry"],
            ],
        )
    )
    struct = keccak(
        encode(
            ["bytes32", "bytes32", "uint256", "bytes32", "uint256"],
            [
                endorsement_type,
                bytes.fromhex(a["root"][2:]),
                a["leaf_count"],
                keccak(a["manifest"].encode()),
                a["batch_time"],
            ],
        )
    )
    digest = keccak(b"\x19\x01" + separator + struct)
    assert _stated("domain type") == "0x" + domain_type.hex()
    assert _stated("Endorsement type") == "0x" + endorsement_type.hex()
    assert _stated("domain separator") == "0x" + separator.hex()
    assert _stated("struct hash") == "0x" + struct.hex()
    assert _stated("digest") == "0x" + digest.hex()
    assert a["root"] in SPEC and str(a["batch_time"]) in SPEC


def test_the_standard_tools_scripts_constants_are_what_they_say() -> None:
    """scripts/verify-with-standard-tools.sh writes the published hashes, event topics and
    EIP-712 type hashes as constants, each with what it is: each is recomputed here."""
    script = (REPO_ROOT / "scripts" / "verify-with-standard-tools.sh").read_text("utf-8")
    constants = dict(re.findall(r"^([A-Z0-9_]+)=(0x[0-9a-f]+)\b", script, re.MULTILINE))
    (v1_hash,) = PUBLISHED_CODE_HASHES
    domain = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    expected = {
        "PUBLISHED_CODE_HASH_V1": v1_hash,
        "PUBLISHED_CODE_HASH_V2": V2_REGISTRY_CODE_HASH,
        "PUBLISHED_CODE_HASH_V2_BUILD_1": V2_BUILD_1_CODE_HASH,
        "MEMBER_SET_TOPIC": keccak(text="MemberSet(address,uint8,bytes32,string,uint64)"),
        "MEMBER_REMOVED_TOPIC": keccak(text="MemberRemoved(address,uint64)"),
        "POLICY_SET_TOPIC": keccak(text="PolicySet(uint16,uint256,uint64)"),
        "ENDORSEMENT_OF": keccak(text="endorsementOf(bytes32)")[:4],
        "DOMAIN_TYPEHASH": keccak(text=domain),
        "DOMAIN_NAME_HASH": keccak(text="NotaryConsortium"),
        "DOMAIN_VERSION_HASH": keccak(text="1"),
        "ENDORSEMENT_TYPEHASH": keccak(
            text="Endorsement(bytes32 root,uint32 leafCount,string manifest,uint64 batchTime)"
        ),
        "DEPOSIT_TYPEHASH": keccak(
            text="Deposit(bytes32 sha256,bytes32 sm3,bytes32 metadataDigest,string depositor)"
        ),
    }
    assert {k: constants.get(k) for k in expected} == {
        k: "0x" + v.hex() for k, v in expected.items()
    }
    half_n = re.search(r"^HALF_N=([0-9a-f]{64})\b", script, re.MULTILINE)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # secp256k1's order
    assert half_n and int(half_n.group(1), 16) == n // 2
