"""Certificate v1: the portable JSON receipt a court verifies with public data alone.

The published JSON Schema is certificate-v1.schema.json beside this module; the full
specification, with the verification procedure, is docs/certificate.md. Parsing checks
the version first (so a newer certificate is reported as such, not as malformed), then the
schema, then turns the document into frozen dataclasses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, Final

import jsonschema
from eth_utils.address import to_checksum_address

from notary.core import jsontext
from notary.core.jsontext import JsonInputError
from notary.core.leaf import (
    LEAF_ENCODING,
    MAX_SAFE_INTEGER,
    Leaf,
    Metadata,
    validate_metadata,
)
from notary.errors import CertificateFormatError, UnsupportedVersionError, ValidationError

FORMAT: Final = "evidence-notary-certificate"
VERSION: Final = 1
SPECIFICATION: Final = "docs/certificate.md (evidence-notary certificate, version 1)"
MAX_CERTIFICATE_BYTES: Final = 1024 * 1024
"""Largest certificate accepted for parsing; a real one is a few kilobytes. A larger one
is refused unread (JsonInputError "too_large"): the verdict is "cannot decide"."""
MAX_CERTIFICATE_DEPTH: Final = jsontext.MAX_DEPTH
"""Deepest nesting of arrays/objects read (a certificate needs 4); deeper is refused
unread (JsonInputError "too_deep")."""
REFUSED_UNREAD: Final = frozenset({"too_large", "too_deep"})
"""JsonInputError codes for which a certificate is not read at all (cannot decide)."""

ASSIGNED_AFTER_UNICODE_14: Final = """
88F 897 C5C CDC CF3 ECE 1ACF-1ADD 1AE0-1AEB 1B4E-1B4F 1B7F 1C89-1C8A 20C1 2427-2429 2B96
2FFC-2FFF 31E4-31E5 31EF A7CB-A7CF A7D2 A7D4 A7DA-A7DC A7F1 FBC3-FBD2 FD90-FD91
FDC8-FDCE 105C0-105F3 10940-10959 10D40-10D65 10D69-10D85 10D8E-10D8F 10EC2-10EC7
10ED0-10ED8 10EFA-10EFF 1123F-11241 11380-11389 1138B 1138E 11390-113B5 113B7-113C0
113C2 113C5 113C7-113CA 113CC-113D5 113D7-113D8 113E1-113E2 116D0-116E3 11B00-11B09
11B60-11B67 11BC0-11BE1 11BF0-11BF9 11DB0-11DDB 11DE0-11DE9 11F00-11F10 11F12-11F3A
11F3E-11F5A 1342F 13440-13455 13460-143FA 16100-16139 16D40-16D79 16EA0-16EB8
16EBB-16ED3 16FF2-16FF6 187F8-187FF 18CFF 18D09-18D1E 18D80-18DF2 1B132 1B155
1CC00-1CCFC 1CD00-1CEB3 1CEBA-1CED0 1CEE0-1CEF0 1D2C0-1D2D3 1DF25-1DF2A 1E030-1E06D
1E08F 1E4D0-1E4F9 1E5D0-1E5FA 1E5FF 1E6C0-1E6DE 1E6E0-1E6F5 1E6FE-1E6FF 1F6D8 1F6DC
1F774-1F77F 1F7D9 1F8B2-1F8BB 1F8C0-1F8C1 1F8D0-1F8D8 1FA54-1FA57 1FA75-1FA77
1FA87-1FA8A 1FA8E-1FA8F 1FAAD-1FAAF 1FABB-1FABF 1FAC6 1FAC8 1FACD-1FACF 1FADA-1FADC
1FADF 1FAE8-1FAEA 1FAEF 1FAF7-1FAF8 1FBCB-1FBEF 1FBFA 2B739-2B73F 2CEA2-2CEAD
2EBF0-2EE5D 31350-33479
"""
"""Code points unassigned (Cn) in Unicode 14.0 and assigned by Unicode 15.0 to 17.0.

"Printable" is defined by Unicode 14.0 categories (docs/certificate.md, appendix A), the
database of Python 3.11, so that a newer Python or JavaScript engine does not accept
characters an older one refuses; these are refused whatever the running Unicode version.
"""

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
class EvidenceRecord:
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

    evidence: EvidenceRecord
    leaf: Leaf
    leaf_hash: bytes
    proof: tuple[bytes, ...]
    anchor: AnchorRecord
    steps: tuple[str, ...] = field(default=VERIFICATION_STEPS)

    def document(self) -> dict[str, Any]:
        """The JSON document (version 1 here; CertificateV2 overrides it)."""
        return v1_document(self)


def utc_text(timestamp: int) -> str:
    """Unix seconds as ISO 8601 UTC text, e.g. 2026-11-21T14:09:18Z."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def to_document(cert: Certificate) -> dict[str, Any]:
    """The JSON document of a certificate (field order as in the specification); a
    version 2 certificate (notary.core.certificate_v2) writes its own."""
    return cert.document()


def v1_document(cert: Certificate) -> dict[str, Any]:
    """The version 1 JSON document of `cert` (field order as in the specification)."""
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
    """Parse and validate a certificate (docs/certificate.md section 2, rules 1 to 6).

    Raises JsonInputError ("too_large", "too_deep") for a certificate refused unread,
    UnsupportedVersionError for a newer version, CertificateFormatError for anything else
    that is not a valid version 1 certificate.
    """
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    document = read_json(raw)
    _check_kind(document)
    check_numbers(raw)
    return from_document(document)


def read_json(raw: bytes) -> object:
    """Section 2 rules 1 and 2 for every version: limits, strict JSON, Unicode text.

    Raises JsonInputError ("too_large", "too_deep") for a certificate refused unread,
    CertificateFormatError for text that is not one strict JSON text of Unicode strings.
    """
    if len(raw) <= MAX_CERTIFICATE_BYTES and running_depth(raw) > MAX_CERTIFICATE_DEPTH:
        raise JsonInputError(
            "too_deep",
            f"certificate nests arrays/objects deeper than {MAX_CERTIFICATE_DEPTH} levels",
        )
    try:
        document = jsontext.loads(raw, max_bytes=MAX_CERTIFICATE_BYTES, what="certificate")
    except JsonInputError as exc:
        if exc.code in REFUSED_UNREAD:
            raise
        raise CertificateFormatError(str(exc)) from exc
    _check_scalars(document)
    return document


_BRACKET_BYTES: Final = bytes(b for b in range(256) if b not in b'"[]{}')
_STRING_RUNS: Final = re.compile(rb'"[^"]*"')


def running_depth(data: bytes) -> int:
    """Section 2 rule 1: the deepest bracket count, measured before any parsing.

    For well-formed JSON this is jsontext.depth (which the fast path uses); for text whose
    brackets do not pair up, jsontext gives up, and the specification still counts: a
    100,000-deep unclosed ``[[[[`` is refused unread (cannot decide) by every verifier.
    """
    fast = jsontext.depth(data)
    if fast is not None:
        return fast
    shape = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _BRACKET_BYTES)
    level = deepest = 0
    for byte in _STRING_RUNS.sub(b"", shape):
        if byte in b"[{":
            level += 1
            deepest = max(deepest, level)
        elif byte in b"]}":
            level -= 1
    return deepest


def _check_scalars(document: object) -> None:
    """Rule 2: every string and key is Unicode text (no escaped lone surrogate)."""
    for text in _strings(document):
        if _SURROGATE.search(text):
            raise CertificateFormatError(
                "certificate has a string with a lone UTF-16 surrogate (\\ud800 to \\udfff): "
                "not Unicode text"
            )


def _check_kind(document: object) -> None:
    """Rule 2: a JSON object of this format; a newer version cannot be judged here."""
    if not isinstance(document, dict):
        raise CertificateFormatError("certificate must be a JSON object")
    if document.get("format") != FORMAT:
        raise CertificateFormatError(f"not an evidence notary certificate (format != {FORMAT!r})")
    version = document.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
        raise UnsupportedVersionError(
            f"certificate version {version} is newer than this verifier (reads {VERSION})"
        )


def _integer(lexeme: str) -> int:
    if lexeme.startswith("-"):
        raise CertificateFormatError(f"number {lexeme}: numbers in a certificate have no sign")
    value = int(lexeme)
    if value > MAX_SAFE_INTEGER:
        raise CertificateFormatError(f"number {lexeme} is larger than 2**53 - 1")
    return value


def _not_integer(lexeme: str) -> int:
    raise CertificateFormatError(
        f"number {lexeme}: every number in a certificate is an integer written without a "
        "decimal point or exponent"
    )


def check_numbers(text: bytes) -> None:
    """Rule 3: integers only, as digits (no 1.0, 1e0, -0), at most 2**53 - 1.

    JSON Schema counts 1.0 as an integer and Python then reads a float, so the number
    text itself is checked. The text was read once already, so its depth is bounded.
    """
    json.loads(text, parse_float=_not_integer, parse_int=_integer)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)


def from_document(document: object) -> Certificate:
    """Validate a decoded JSON document (rules 2, 4 to 6) and build the Certificate."""
    _check_scalars(document)
    _check_kind(document)
    assert isinstance(document, dict)
    error = jsonschema.exceptions.best_match(_validator().iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise CertificateFormatError(
            f"certificate does not match the schema at {where}: {error.message}"
        )
    try:
        return build_parts(document)
    except ValidationError as exc:
        raise CertificateFormatError(f"certificate is not valid: {exc}") from exc


_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def ecma_regex(pattern: str) -> re.Pattern[str]:
    """A JSON Schema pattern (ECMA-262 dialect) as a Python regex with the same meaning.

    ECMA's ``$`` (no multiline flag) matches only at the end of the text; Python's also
    matches before a final newline, so ``"<64 hex digits>\\n"`` passed. ``\\d`` and ``\\w``
    are ASCII in ECMA (re.ASCII). The schema uses no other construct that differs.
    """
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        out.append("\\Z" if ch == "$" and not in_class else ch)
        i += 1
    return re.compile("".join(out), re.ASCII)


def _ecma_pattern(
    validator: Any,  # noqa: ANN401  (jsonschema's keyword-function signature)
    pattern: str,
    instance: object,
    schema: dict[str, Any],
) -> Iterator[jsonschema.ValidationError]:
    if isinstance(instance, str) and not ecma_regex(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def ecma_validator(published: dict[str, Any]) -> Any:  # noqa: ANN401  (built at run time)
    """A draft 2020-12 validator of `published` whose `pattern` has ECMA-262 semantics."""
    cls = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator, {"pattern": _ecma_pattern}
    )
    return cls(published)


@cache
def _validator() -> Any:  # noqa: ANN401  (jsonschema builds the class at run time)
    return ecma_validator(schema())


def _parse_ranges(text: str) -> tuple[tuple[int, int], ...]:
    pairs = []
    for item in text.split():
        low, _, high = item.partition("-")
        pairs.append((int(low, 16), int(high or low, 16)))
    return tuple(pairs)


_LATER: Final = _parse_ranges(ASSIGNED_AFTER_UNICODE_14)


def printable(text: str) -> bool:
    """Every character printable by docs/certificate.md appendix A (Unicode 14.0).

    Printable: not in the general categories Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs, except
    U+0020 SPACE. That is Python 3.11's str.isprintable; later code points are refused.
    """
    if not text.isprintable():
        return False
    return not any(low <= ord(ch) <= high for ch in text if ord(ch) > 0x87F for low, high in _LATER)


def check_address(where: str, address: str) -> None:
    """EIP-55: a mixed-case address must carry a valid checksum (all-lower/upper: none)."""
    digits = address[2:]
    mixed = digits not in (digits.lower(), digits.upper())
    if mixed and to_checksum_address(address) != address:
        raise ValidationError(f"{where} {address} has mixed case but a wrong EIP-55 checksum")


def _b(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def build_parts(d: dict[str, Any]) -> Certificate:
    """The Certificate of a schema-valid document (the parts every version shares), after
    the rules of section 2 beyond the schema (time text, EIP-55, depositor)."""
    ev, lf, an = d["evidence"], d["leaf"], d["anchor"]
    evidence = EvidenceRecord(
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
    try:
        stated_utc = utc_text(an["block_time"])
    except (OverflowError, ValueError, OSError):
        stated_utc = ""  # past year 9999: no text of the schema's pattern can match
    if an["block_time_utc"] != stated_utc:
        # the text a clerk reads must say what the number says
        raise ValidationError("anchor.block_time_utc does not match anchor.block_time")
    check_address("anchor.registry", an["registry"])
    check_address("anchor.notary", an["notary"])
    depositor = lf["values"][4]
    if not printable(depositor) or depositor.startswith(" ") or depositor.endswith(" "):
        raise ValidationError(
            "the depositor (leaf value 5) must be printable characters (appendix A) without "
            "leading or trailing spaces"
        )
    return Certificate(
        evidence=evidence,
        leaf=Leaf.from_json_values(lf["values"]),
        leaf_hash=_b(lf["hash"]),
        proof=tuple(_b(node) for node in d["proof"]),
        anchor=anchor,
        steps=tuple(d["verification"]["steps"]),
    )
