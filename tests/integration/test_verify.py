"""The verifier against the real devnet: a valid certificate passes; each defect is caught."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
from eth_utils import keccak

from notary.chain.artifact import registry_build
from notary.core import certificate as cert_format
from notary.core.leaf import Leaf
from notary.core.merkle import build_tree
from notary.verify.certificate import Outcome, Verdict, verify
from tests.conftest import free_port, run_node

pytestmark = pytest.mark.devnet


def load(path: Path) -> dict:
    return json.loads(path.read_text("utf-8"))


def check(doc: dict | str, rpc: str, file: Path | None = None) -> Verdict:
    text = doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False)
    if file is None:
        return verify(text, rpc)
    with file.open("rb") as fh:
        return verify(text, rpc, fh)


def failed_check(verdict: Verdict) -> str:
    failed = [c.name for c in verdict.checks if not c.passed]
    assert len(failed) == 1, verdict
    return failed[0]


def flip_hex(value: str) -> str:
    """The same hex string with its last digit changed."""
    return value[:-1] + ("1" if value[-1] == "0" else "0")


def test_valid_certificate_with_file(chain, stamped) -> None:
    verdict = check(load(stamped.certificates[2]), chain.rpc_url, stamped.files[2])
    assert verdict.outcome is Outcome.VALID, verdict
    assert all(c.passed for c in verdict.checks) and len(verdict.checks) == 20
    assert "existed, unchanged, no later than" in verdict.reason
    assert stamped.files[2].name in verdict.reason
    assert verdict.facts["file_checked"] is True
    assert any("authored" in line for line in verdict.not_proven)


def test_valid_certificate_without_file_says_no_file_was_checked(chain, stamped) -> None:
    verdict = check(load(stamped.certificates[0]), chain.rpc_url)
    assert verdict.outcome is Outcome.VALID
    assert "content with SHA-256" in verdict.reason
    assert any("no file was checked" in line for line in verdict.not_proven)


def test_file_changed_by_one_byte(chain, stamped, tmp_path) -> None:
    data = bytearray(stamped.files[1].read_bytes())
    data[len(data) // 2] ^= 0x01
    changed = tmp_path / stamped.files[1].name
    changed.write_bytes(bytes(data))
    verdict = check(load(stamped.certificates[1]), chain.rpc_url, changed)
    assert verdict.outcome is Outcome.INVALID
    assert failed_check(verdict) == "file sha256"


def test_another_files_certificate(chain, stamped) -> None:
    verdict = check(load(stamped.certificates[0]), chain.rpc_url, stamped.files[1])
    assert verdict.outcome is Outcome.INVALID and failed_check(verdict) == "file sha256"


def test_proof_tampered(chain, stamped) -> None:
    doc = load(stamped.certificates[3])
    doc["proof"][0] = flip_hex(doc["proof"][0])
    verdict = check(doc, chain.rpc_url, stamped.files[3])
    assert verdict.outcome is Outcome.INVALID and failed_check(verdict) == "merkle proof"


def test_proof_element_dropped(chain, stamped) -> None:
    doc = load(stamped.certificates[3])
    doc["proof"].pop()
    verdict = check(doc, chain.rpc_url, stamped.files[3])
    assert verdict.outcome is Outcome.INVALID and failed_check(verdict) == "merkle proof"


def test_leaf_value_tampered_without_fixing_the_hash(chain, stamped) -> None:
    doc = load(stamped.certificates[0])
    doc["leaf"]["values"][4] = "studio-43"  # claim another depositor
    verdict = check(doc, chain.rpc_url, stamped.files[0])
    assert verdict.outcome is Outcome.INVALID and failed_check(verdict) == "leaf hash"


def test_leaf_value_tampered_and_hash_recomputed(chain, stamped) -> None:
    doc = load(stamped.certificates[0])
    doc["leaf"]["values"][4] = "studio-43"
    doc["leaf"]["hash"] = "0x" + Leaf.from_json_values(doc["leaf"]["values"]).hash().hex()
    verdict = check(doc, chain.rpc_url, stamped.files[0])
    assert verdict.outcome is Outcome.INVALID and failed_check(verdict) == "merkle proof"


def test_salt_tampered(chain, stamped) -> None:
    doc = load(stamped.certificates[0])
    doc["leaf"]["values"][5] = flip_hex(doc["leaf"]["values"][5])
    verdict = check(doc, chain.rpc_url, stamped.files[0])
    assert verdict.outcome is Outcome.INVALID and failed_check(verdict) == "leaf hash"


def test_metadata_tampered(chain, stamped) -> None:
    doc = load(stamped.certificates[0])
    doc["evidence"]["metadata"]["name"] = "copycat.png"
    verdict = check(doc, chain.rpc_url)
    assert verdict.outcome is Outcome.INVALID and failed_check(verdict) == "leaf metadata"


def test_evidence_hash_swapped(chain, stamped) -> None:
    doc = load(stamped.certificates[0])
    doc["evidence"]["sha256"] = load(stamped.certificates[1])["evidence"]["sha256"]
    verdict = check(doc, chain.rpc_url)
    assert verdict.outcome is Outcome.INVALID and failed_check(verdict) == "leaf content"


def test_root_never_anchored(chain, stamped) -> None:
    """A self-consistent certificate for a tree that was never anchored."""
    doc = load(stamped.certificates[0])
    leaf = Leaf.from_json_values(doc["leaf"]["values"])
    tree = build_tree([leaf.hash(), os.urandom(32), os.urandom(32)])
    doc["proof"] = ["0x" + p.hex() for p in tree.proof(leaf.hash())]
    doc["anchor"]["root"] = "0x" + tree.root.hex()
    verdict = check(doc, chain.rpc_url, stamped.files[0])
    assert verdict.outcome is Outcome.INVALID and failed_check(verdict) == "root anchored"
    assert "never anchored" in verdict.reason


def test_wrong_chain_id_cannot_be_decided_on_this_node(chain, stamped) -> None:
    doc = load(stamped.certificates[0])
    doc["anchor"]["chain_id"] = 1
    verdict = check(doc, chain.rpc_url, stamped.files[0])
    assert verdict.outcome is Outcome.CANNOT_DECIDE
    assert "chain 1" in verdict.reason


def test_wrong_registry_address(chain, stamped) -> None:
    doc = load(stamped.certificates[0])
    doc["anchor"]["registry"] = chain.deployment.notary  # an account, no code
    verdict = check(doc, chain.rpc_url, stamped.files[0])
    assert verdict.outcome is Outcome.INVALID and failed_check(verdict) == "registry code"


def _set_code(chain, address: str, code: bytes) -> None:
    from notary.ops.devnet import rpc_call

    rpc_call(chain.rpc_url, "anvil_setCode", [address, "0x" + code.hex()])


def test_registry_code_that_does_not_match_the_build(chain, stamped) -> None:
    """Same address semantics, other code: even a certificate naming the fake hash fails."""
    fake = "0x" + os.urandom(20).hex()
    code = bytearray(registry_build().runtime_code)
    code[-3] ^= 0xFF  # inside the CBOR metadata: behaves the same, is not the published build
    _set_code(chain, fake, bytes(code))
    doc = load(stamped.certificates[0])
    doc["anchor"]["registry"] = fake
    verdict = check(doc, chain.rpc_url, stamped.files[0])
    assert verdict.outcome is Outcome.INVALID and failed_check(verdict) == "registry code"
    doc["anchor"]["registry_code_hash"] = "0x" + keccak(bytes(code)).hex()
    verdict = check(doc, chain.rpc_url, stamped.files[0])
    assert verdict.outcome is Outcome.INVALID and failed_check(verdict) == "registry code"


def test_published_code_at_another_address_has_no_anchor(chain, stamped) -> None:
    twin = "0x" + os.urandom(20).hex()
    _set_code(chain, twin, registry_build().runtime_code)
    doc = load(stamped.certificates[0])
    doc["anchor"]["registry"] = twin
    verdict = check(doc, chain.rpc_url, stamped.files[0])
    assert verdict.outcome is Outcome.INVALID and failed_check(verdict) == "root anchored"


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("block_time", "anchor record"),
        ("block_number", "anchor record"),
        ("sequence", "anchor record"),
        ("leaf_count", "anchor record"),
        ("block_hash", "block"),
        ("tx_hash", "transaction in block"),
    ],
)
def test_anchor_fields_tampered(chain, stamped, field: str, expected: str) -> None:
    doc = load(stamped.certificates[0])
    value = doc["anchor"][field]
    if field == "tx_hash":  # another real transaction: the registry's deployment
        doc["anchor"][field] = chain.deployment.tx_hash
    elif field == "block_number":  # an earlier block: a later one may not be mined yet
        doc["anchor"][field] = value - 1
    elif isinstance(value, int):
        doc["anchor"][field] = value + 1
        if field == "block_time":
            doc["anchor"]["block_time_utc"] = cert_format.utc_text(value + 1)
    else:
        doc["anchor"][field] = flip_hex(value)
    verdict = check(doc, chain.rpc_url, stamped.files[0])
    assert verdict.outcome is Outcome.INVALID and failed_check(verdict) == expected
    if expected in ("anchor record", "block"):  # the message names the field and both values
        assert f"anchor.{field}" in verdict.reason
        assert str(doc["anchor"][field]) in verdict.reason and str(value) in verdict.reason


@pytest.mark.parametrize("field", ["notary", "manifest"])
def test_anchor_notary_or_manifest_rewritten_is_invalid(chain, stamped, field: str) -> None:
    doc = load(stamped.certificates[0])
    real = doc["anchor"][field]
    doc["anchor"][field] = "0x" + "42" * 20 if field == "notary" else "bafkreiforged"
    verdict = check(doc, chain.rpc_url, stamped.files[0])
    assert verdict.outcome is Outcome.INVALID and failed_check(verdict) == "anchor record"
    assert f"anchor.{field} is" in verdict.reason and real in verdict.reason
    assert not verdict.proven


def test_unknown_tx_hash_is_invalid_with_a_plain_message(chain, stamped) -> None:
    doc = load(stamped.certificates[0])
    doc["anchor"]["tx_hash"] = "0x" + "77" * 32
    verdict = check(doc, chain.rpc_url, stamped.files[0])
    assert verdict.outcome is Outcome.INVALID and failed_check(verdict) == "transaction in block"
    assert "did not anchor it" in verdict.reason and "TransactionNotFound" not in verdict.reason


def test_look_alike_registry_message_names_the_published_hash(chain, stamped) -> None:
    fake = "0x" + os.urandom(20).hex()
    code = bytearray(registry_build().runtime_code)
    code[-3] ^= 0xFF
    _set_code(chain, fake, bytes(code))
    doc = load(stamped.certificates[0])
    doc["anchor"]["registry"] = fake
    verdict = check(doc, chain.rpc_url, stamped.files[0])
    published = "0x" + registry_build().runtime_code_hash.hex()
    assert verdict.reason == (
        f"the code at {fake} (hash 0x{keccak(bytes(code)).hex()}) is not the published "
        f"EvidenceRegistry build (published: {published})"
    )


def test_registry_code_hash_field_rewritten(chain, stamped) -> None:
    doc = load(stamped.certificates[0])
    doc["anchor"]["registry_code_hash"] = "0x" + "11" * 32
    verdict = check(doc, chain.rpc_url, stamped.files[0])
    assert verdict.outcome is Outcome.INVALID
    assert failed_check(verdict) == "registry code hash field"
    assert "anchor.registry_code_hash is 0x1111" in verdict.reason


def test_rpc_unreachable(stamped) -> None:
    verdict = check(
        load(stamped.certificates[0]), f"http://127.0.0.1:{free_port()}", stamped.files[0]
    )
    assert verdict.outcome is Outcome.CANNOT_DECIDE
    assert "cannot reach" in verdict.reason


def test_malformed_json(chain) -> None:
    verdict = check('{"format": "evidence-notary-certificate", "version": 1', chain.rpc_url)
    assert verdict.outcome is Outcome.INVALID and "malformed" in verdict.reason


def test_future_schema_version(chain, stamped) -> None:
    doc = load(stamped.certificates[0])
    doc["version"] = 3  # 2 is read since certificate v2
    verdict = check(doc, chain.rpc_url, stamped.files[0])
    assert verdict.outcome is Outcome.CANNOT_DECIDE and "newer" in verdict.reason


# The independent verifier (tests/js/verify_certificate.js, written from docs/certificate.md)
# must reach the same verdicts on the same inputs.


def js_verify(chain, doc: dict, file: Path | None, tmp_path: Path) -> str:
    path = tmp_path / "cert.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    args = [str(path), chain.rpc_url]
    out = run_node("verify_certificate.js", *args, *([str(file)] if file else []), check=False)
    return str(json.loads(out.stdout)["outcome"])


@pytest.mark.node
def test_independent_verifier_agrees(chain, stamped, tmp_path) -> None:
    good = load(stamped.certificates[4])
    cases: list[tuple[dict, Path | None]] = [
        (good, stamped.files[4]),
        (good, None),
        (good, stamped.files[0]),
    ]
    for mutate in (
        lambda d: d["proof"].__setitem__(0, flip_hex(d["proof"][0])),
        lambda d: d["leaf"]["values"].__setitem__(4, "someone-else"),
        lambda d: d["evidence"]["metadata"].__setitem__("name", "copy.png"),
        lambda d: d["anchor"].__setitem__("registry", chain.deployment.notary),
        lambda d: d["anchor"].__setitem__("block_time", d["anchor"]["block_time"] + 1),
        lambda d: d["anchor"].__setitem__("block_hash", flip_hex(d["anchor"]["block_hash"])),
        lambda d: d.__setitem__("version", 3),
    ):
        doc = copy.deepcopy(good)
        mutate(doc)
        cases.append((doc, stamped.files[4]))
    for doc, file in cases:
        ours = check(doc, chain.rpc_url, file).outcome.value
        assert js_verify(chain, doc, file, tmp_path) == ours
    assert [check(d, chain.rpc_url, f).outcome for d, f in cases[:3]] == [
        Outcome.VALID,
        Outcome.VALID,
        Outcome.INVALID,
    ]
