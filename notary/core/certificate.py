"""Certificate v1: the portable JSON receipt a court verifies with public data alone.

The published JSON Schema is certificate-v1.schema.json beside this module; the full
specification, with the verification procedure, is docs/certificate.md. Parsing checks
the version first (so a newer certificate is reported as such, not as malformed), then the
schema, then turns the document into frozen dataclasses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, Final

import jsonschema

from notary.core.leaf import LEAF_ENCODING, ZERO32, Leaf, Metadata, validate_metadata
from notary.errors import CertificateFormatError, UnsupportedVersionError, ValidationError

FORMAT: Final = "evidence-notary-certificate"
VERSION: Final = 1
SPECIFICATION: Final = "docs/certificate.md (evidence-notary certificate, version 1)"
MAX_CERTIFICATE_BYTES: Final = 1024 * 1024
"""Largest certificate accepted for parsing; a real one is a few kilobytes."""

VERIFICATION_STEPS: Final = (
    "1. sha256sum FILE equals evidence.sha256 (and SM3 equals evidence.sm3 when given).",
    "2. SHA-256 of the canonical JSON of evidence.metadata equals leaf value 4.",
    "3. leaf values 2 and 3 equal evidence.sha256 and evidence.sm3 (zero when null).",
    "4. keccak256(keccak256(abi.encode(leaf.values))) equals leaf.hash.",
    "5. Folding leaf.hash with each proof element (sorted-pair keccak256) gives anchor.root.",
    "6. On a node of chain anchor.chain_id, keccak256(eth_getCode(anchor.registry)) equals "
    "anchor.registry_code_hash, the published EvidenceRegistry build.",
    "7. eth_call anchorOf(anchor.root) on the registry gives anchor.sequence, "
    "anchor.block_number and anchor.block_time; verify(root, proof, leaf.hash) gives block_time.",
    "8. Block anchor.block_number has hash anchor.block_hash and timestamp anchor.block_time.",
    "Then the content existed, unchanged, no later than anchor.block_time (UTC).",
)


@dataclass(frozen=True)
class Evidence:
    """What was deposited: content hashes and metadata (name, size, media type, ...)."""

    sha256: bytes
    sm3: bytes | None
    metadata: Metadata


@dataclass(frozen=True)
class AnchorRecord:
    """Where and when the batch root was anchored."""

    chain_id: int
    registry: str
    registry_code_hash: bytes
    root: bytes
    sequence: int
    leaf_count: int
    notary: str
    manifest: str
    tx_hash: bytes
    block_number: int
    block_hash: bytes
    block_time: int


@dataclass(frozen=True)
class Certificate:
    """A parsed version 1 certificate."""

    evidence: Evidence
    leaf: Leaf
    leaf_hash: bytes
    proof: tuple[bytes, ...]
    anchor: AnchorRecord
    steps: tuple[str, ...] = field(default=VERIFICATION_STEPS)


def utc_text(timestamp: int) -> str:
    """Unix seconds as ISO 8601 UTC text, e.g. 2026-11-21T14:09:18Z."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def to_document(cert: Certificate) -> dict[str, Any]:
    """The JSON document of a certificate (field order as in the specification)."""
    a = cert.anchor
    return {
        "format": FORMAT,
        "version": VERSION,
        "evidence": {
            "sha256": cert.evidence.sha256.hex(),
            "sm3": cert.evidence.sm3.hex() if cert.evidence.sm3 is not None else None,
            "metadata": cert.evidence.metadata,
        },
        "leaf": {
            "scheme": cert.leaf.scheme,
            "encoding": list(LEAF_ENCODING),
            "values": cert.leaf.json_values(),
            "hash": _hex(cert.leaf_hash),
        },
        "proof": [_hex(node) for node in cert.proof],
        "anchor": {
            "chain_id": a.chain_id,
            "registry": a.registry,
            "registry_code_hash": _hex(a.registry_code_hash),
            "root": _hex(a.root),
            "sequence": a.sequence,
            "leaf_count": a.leaf_count,
            "notary": a.notary,
            "manifest": a.manifest,
            "tx_hash": _hex(a.tx_hash),
            "block_number": a.block_number,
            "block_hash": _hex(a.block_hash),
            "block_time": a.block_time,
            "block_time_utc": utc_text(a.block_time),
        },
        "verification": {"specification": SPECIFICATION, "steps": list(cert.steps)},
    }


def dumps(cert: Certificate) -> str:
    """Serialize a certificate as UTF-8-friendly, indented JSON text."""
    return json.dumps(to_document(cert), indent=2, ensure_ascii=False) + "\n"


@cache
def schema() -> dict[str, Any]:
    """The published JSON Schema of certificate v1."""
    text = resources.files("notary.core").joinpath("certificate-v1.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def loads(text: str | bytes) -> Certificate:
    """Parse and validate a certificate. Raises CertificateFormatError or its subclasses."""
    if len(text) > MAX_CERTIFICATE_BYTES:
        raise CertificateFormatError(f"certificate is larger than {MAX_CERTIFICATE_BYTES} bytes")
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CertificateFormatError(f"certificate is not valid JSON: {exc}") from exc
    return from_document(document)


def from_document(document: object) -> Certificate:
    """Validate a decoded JSON document and build the Certificate."""
    if not isinstance(document, dict):
        raise CertificateFormatError("certificate must be a JSON object")
    if document.get("format") != FORMAT:
        raise CertificateFormatError(f"not an evidence notary certificate (format != {FORMAT!r})")
    version = document.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
        raise UnsupportedVersionError(
            f"certificate version {version} is newer than this verifier (reads {VERSION})"
        )
    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise CertificateFormatError(
            f"certificate does not match the schema at {where}: {error.message}"
        )
    try:
        return _build(document)
    except ValidationError as exc:
        raise CertificateFormatError(f"certificate is not valid: {exc}") from exc


def _b(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def _build(d: dict[str, Any]) -> Certificate:
    ev, lf, an = d["evidence"], d["leaf"], d["anchor"]
    evidence = Evidence(
        sha256=_b(ev["sha256"]),
        sm3=_b(ev["sm3"]) if ev["sm3"] is not None else None,
        metadata=validate_metadata(ev["metadata"]),
    )
    anchor = AnchorRecord(
        chain_id=an["chain_id"],
        registry=an["registry"],
        registry_code_hash=_b(an["registry_code_hash"]),
        root=_b(an["root"]),
        sequence=an["sequence"],
        leaf_count=an["leaf_count"],
        notary=an["notary"],
        manifest=an["manifest"],
        tx_hash=_b(an["tx_hash"]),
        block_number=an["block_number"],
        block_hash=_b(an["block_hash"]),
        block_time=an["block_time"],
    )
    if an["block_time_utc"] != utc_text(an["block_time"]):
        # the text a clerk reads must say what the number says
        raise ValidationError("anchor.block_time_utc does not match anchor.block_time")
    return Certificate(
        evidence=evidence,
        leaf=Leaf.from_json_values(lf["values"]),
        leaf_hash=_b(lf["hash"]),
        proof=tuple(_b(node) for node in d["proof"]),
        anchor=anchor,
        steps=tuple(d["verification"]["steps"]),
    )


def sm3_leaf_value(sm3: bytes | None) -> bytes:
    """The leaf's SM3 slot: the digest, or 32 zero bytes when none was given."""
    return sm3 if sm3 is not None else ZERO32
