"""Certificate v1 format: golden file, invalid vectors, schema, serialization."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from notary.chain.artifact import PUBLISHED_CODE_HASHES, published_code_hashes, registry_build
from notary.core import certificate as cert_format
from notary.core.jsontext import JsonInputError
from notary.errors import CertificateFormatError, UnsupportedVersionError
from notary.ops.toolchain import REPO_ROOT
from notary.verify.certificate import offline_checks
from tests.conftest import VECTORS, run_node

GOLDEN = VECTORS / "certificate-v1.cert.json"
GOLDEN_FILE = VECTORS / "certificate-v1.file.txt"
INVALID = sorted((VECTORS / "invalid").glob("*.cert.json"))


def test_golden_certificate_parses_and_round_trips_byte_for_byte() -> None:
    text = GOLDEN.read_text("utf-8")
    cert = cert_format.loads(text)
    assert cert_format.dumps(cert) == text
    assert cert.evidence.metadata["name"] == "小熊连衣裙-design-7.txt"
    assert cert.leaf.depositor == "杭州童装工作室 (studio-0007)"


def test_golden_certificate_passes_every_offline_step() -> None:
    cert = cert_format.loads(GOLDEN.read_bytes())
    with GOLDEN_FILE.open("rb") as fh:
        checks = offline_checks(cert, fh)
    assert [c.name for c in checks] == [
        "file sha256",
        "file sm3",
        "file size",
        "leaf content",
        "leaf metadata",
        "leaf hash",
        "merkle proof",
    ]
    assert all(c.passed for c in checks)


@pytest.mark.node
def test_golden_certificate_passes_the_independent_verifier_offline() -> None:
    out = run_node("verify_certificate.js", str(GOLDEN), "offline", str(GOLDEN_FILE))
    assert json.loads(out.stdout)["outcome"] == "offline-valid"


def test_golden_certificate_fails_offline_with_another_file(tmp_path) -> None:
    other = tmp_path / "copy.txt"
    data = bytearray(GOLDEN_FILE.read_bytes())
    data[-2] ^= 0x01
    other.write_bytes(bytes(data))
    cert = cert_format.loads(GOLDEN.read_bytes())
    with other.open("rb") as fh:
        checks = offline_checks(cert, fh)
    assert checks[-1].name == "file sha256" and not checks[-1].passed


def test_golden_matches_the_published_schema() -> None:
    schema = cert_format.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(GOLDEN.read_text("utf-8")), schema)


def test_there_are_invalid_vectors() -> None:
    assert len(INVALID) >= 20


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_vectors_are_refused(path) -> None:
    expected = (
        UnsupportedVersionError if path.name.startswith("future-") else CertificateFormatError
    )
    with pytest.raises(expected) as raised:
        cert_format.loads(path.read_bytes())
    if not path.name.startswith("future-"):
        assert not isinstance(raised.value, UnsupportedVersionError)


def test_oversized_certificate_is_refused_unread() -> None:
    with pytest.raises(JsonInputError, match="larger") as raised:
        cert_format.loads(b" " * (cert_format.MAX_CERTIFICATE_BYTES + 1))
    assert raised.value.code == "too_large"
    assert not isinstance(raised.value, CertificateFormatError)


def test_deeply_nested_certificate_is_refused_unread() -> None:
    with pytest.raises(JsonInputError) as raised:
        cert_format.loads(b"[" * 100_000 + b"]" * 100_000)
    assert raised.value.code == "too_deep"


def golden() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(GOLDEN.read_text("utf-8"))
    return loaded


def refused(document: dict[str, Any] | str) -> str:
    text = document if isinstance(document, str) else json.dumps(document, ensure_ascii=False)
    with pytest.raises(CertificateFormatError) as raised:
        cert_format.loads(text)
    assert not isinstance(raised.value, UnsupportedVersionError)
    return str(raised.value)


@pytest.mark.parametrize(
    "path",
    [("proof", 0), ("leaf", "hash"), ("anchor", "root"), ("anchor", "tx_hash")],
)
def test_trailing_newline_in_a_0x_hash_is_refused(path: tuple[str | int, str | int]) -> None:
    doc = golden()
    doc[path[0]][path[1]] += "\n"  # Python's `$` matches before it; ECMA's does not
    assert "does not match" in refused(doc)


def test_trailing_newline_in_evidence_sha256_and_metadata_key_is_refused() -> None:
    doc = golden()
    doc["evidence"]["sha256"] += "\n"
    assert "does not match" in refused(doc)
    doc = golden()
    doc["evidence"]["metadata"]["title\n"] = "x"
    refused(doc)


def test_ecma_regex_anchors_at_the_end_of_the_text_and_digits_are_ascii() -> None:
    assert cert_format.ecma_regex("^[0-9a-f]{2}$").search("ab")
    assert not cert_format.ecma_regex("^[0-9a-f]{2}$").search("ab\n")
    assert not cert_format.ecma_regex("^\\d$").search("\u0663")  # ARABIC-INDIC DIGIT THREE
    assert cert_format.ecma_regex("^[$]$").search("$")


@pytest.mark.parametrize("number", ["1.0", "1e0", "1E0", "-0", "0.5e1", "9007199254740992"])
def test_numbers_are_plain_integers_up_to_2_53(number: str) -> None:
    text = GOLDEN.read_text("utf-8").replace('"sequence": 3,', f'"sequence": {number},')
    assert text != GOLDEN.read_text("utf-8")
    message = refused(text)
    assert "number" in message


def test_integer_one_point_zero_in_metadata_is_refused() -> None:
    text = GOLDEN.read_text("utf-8")
    size = golden()["evidence"]["metadata"]["size"]
    assert refused(text.replace(f'"size": {size}', f'"size": {size}.0'))


def test_duplicate_keys_are_refused() -> None:
    text = GOLDEN.read_text("utf-8").replace('"version": 1,', '"version": 1, "version": 1,')
    assert "duplicate key" in refused(text)


def test_lone_surrogate_is_refused() -> None:
    doc = golden()
    doc["evidence"]["metadata"]["title"] = "a\ud800"
    assert "surrogate" in refused(json.dumps(doc))  # escaped: "a\\ud800"


def test_mixed_case_address_needs_a_valid_eip55_checksum() -> None:
    doc = golden()
    notary = doc["anchor"]["notary"]
    assert notary != notary.lower()
    doc["anchor"]["notary"] = notary.lower()  # no checksum claimed: fine
    cert_format.from_document(doc)
    doc["anchor"]["notary"] = "0x" + notary[2:].upper()
    cert_format.from_document(doc)
    swapped = "0x" + notary[2:].swapcase()
    doc["anchor"]["notary"] = swapped
    assert "EIP-55" in refused(doc)


@pytest.mark.parametrize(
    "depositor",
    ["studio\u200b", "a\u0085b", "a\u3000b", " studio", "studio ", "a\U0002ebf0", "a\ue000"],
)
def test_depositor_must_be_printable(depositor: str) -> None:
    doc = golden()
    doc["leaf"]["values"][4] = depositor
    refused(doc)


def test_printable_is_unicode_14_categories() -> None:
    assert cert_format.printable("杭州童装工作室 (studio-0007)")
    assert not cert_format.printable("\U00031350")  # CJK Ext. H, Unicode 15.0
    assert not cert_format.printable("\u00ad")  # SOFT HYPHEN, Cf


def test_block_time_beyond_year_9999_is_invalid_not_a_crash() -> None:
    doc = golden()
    doc["anchor"]["block_time"] = 2**53 - 1
    assert "block_time_utc" in refused(doc)


def test_published_code_hash_is_the_artifacts_and_the_documents() -> None:
    shipped = registry_build().runtime_code_hash
    assert published_code_hashes() == frozenset({shipped}) == PUBLISHED_CODE_HASHES
    spec = (REPO_ROOT / "docs" / "certificate.md").read_text("utf-8")
    assert "0x" + shipped.hex() in spec
    assert golden()["anchor"]["registry_code_hash"] == "0x" + shipped.hex()
