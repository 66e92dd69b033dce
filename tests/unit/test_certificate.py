"""Certificate v1 format: golden file, invalid vectors, schema, serialization."""

from __future__ import annotations

import json

import jsonschema
import pytest

from notary.core import certificate as cert_format
from notary.errors import CertificateFormatError, UnsupportedVersionError
from notary.verify import offline_checks
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
    out = run_node("verify_certificate.js", str(GOLDEN), "offline", "-", str(GOLDEN_FILE))
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


def test_oversized_certificate_is_refused() -> None:
    with pytest.raises(CertificateFormatError, match="larger"):
        cert_format.loads(b" " * (cert_format.MAX_CERTIFICATE_BYTES + 1))
