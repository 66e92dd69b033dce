"""Certificate version 2: a version 1 certificate whose anchor carries k-of-n endorsements.

Specification: docs/certificate-v2.md; JSON Schema: certificate-v2.schema.json beside this
module. The parts shared with version 1 (evidence, leaf, proof, the v1 anchor fields) are
read and written by notary.core.certificate; this module adds `anchor.batch_time`,
`anchor.endorsement` and `depositor_signature` (the depositor key's own signature of the
leaf, or null for an unsigned deposit), and reads any version (`loads`).

Interface for the batcher (it collects endorsements, anchors on the ConsortiumRegistry and
then issues the certificates of the batch):

    issue_v2(
        evidence: EvidenceRecord, leaf: Leaf, leaf_hash: bytes, tree: MerkleTree,
        anchor: AnchorRecord, *, registry_kind: Literal["consortium"], batch_time: int,
        threshold: int, endorsements: Iterable[MemberEndorsement],
        depositor_signature: DepositorSignature | None = None,
    ) -> CertificateV2

    DepositorSignature(signer: str, organization_id: str, organization: str, signature: str)
        signer: the depositor key (the address after ";signer=" in the leaf's depositor);
        organization_id: 0x + 64 hex, keccak256 of the depositor identity (notary.core.depositor);
        organization: the key's name on chain (MemberSet);
        signature: 0x + 130 hex, the EIP-712 Deposit signature r ‖ s ‖ v.

    MemberEndorsement(member: str, organization_id: str, organization: str, signature: str)
        member: the endorser's address (0x + 40 hex, any case; written EIP-55);
        organization_id: 0x + 64 hex (the member's organization on chain);
        organization: the member's name on chain (MemberSet), e.g. "某互联网法院";
        signature: 0x + 130 hex, the 65-byte EIP-712 endorsement r ‖ s ‖ v.

The first five arguments are exactly those of v1's builder (notary.issue.issuer.issue, which
stays unchanged); `anchor` is built as for v1 (notary.issue.issuer.anchor_record) with the
ConsortiumRegistry's address and code hash. `threshold` is the k recorded with the anchor
(endorsementOf(root).k), `batch_time` the batch time the endorsers signed. `dumps` of
notary.core.certificate writes either version (Certificate.document is overridden here).
No I/O, no store, no web3: this is the format only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from functools import cache
from importlib import resources
from typing import Any, Final, Literal

import jsonschema
from eth_utils.address import to_checksum_address

from notary.core import certificate as v1
from notary.core.certificate import (
    AnchorRecord,
    Certificate,
    EvidenceRecord,
    check_address,
)
from notary.core.leaf import Leaf
from notary.core.merkle import MerkleTree
from notary.errors import CertificateFormatError, UnsupportedVersionError, ValidationError

VERSION: Final = 2
SPECIFICATION: Final = "docs/certificate-v2.md (evidence-notary certificate, version 2)"
MAX_ORGANIZATION_BYTES: Final = 128
"""The registry's MAX_NAME_LENGTH: a member name longer than this cannot be on chain."""

RegistryKind = Literal["consortium"]
"""Which registry a version 2 anchor is in: only a ConsortiumRegistry records endorsements."""

VERIFICATION_STEPS: Final = (
    *v1.VERIFICATION_STEPS[:5],
    "6. On a node of chain anchor.chain_id, keccak256(eth_getCode(anchor.registry)) equals "
    "anchor.registry_code_hash, the published ConsortiumRegistry build.",
    *v1.VERIFICATION_STEPS[6:8],
    "9. Each endorsement's EIP-712 signature over (root, leaf_count, manifest, batch_time) "
    "recovers to its member, who was an ENDORSER of the registry at the anchor's block.",
    "10. endorsementOf(anchor.root) gives anchor.batch_time, the threshold and the members; "
    "at least threshold distinct endorsers, the policy's k at that block.",
    "10b. If the leaf's depositor ends in ';signer=<address>', depositor_signature is that "
    "key's EIP-712 signature of the leaf's sha256, sm3, metadata digest and depositor identity, "
    "and the key was a DEPOSITOR of that identity's organization at the anchor's block.",
    v1.VERIFICATION_STEPS[-1],
)


@dataclass(frozen=True)
class MemberEndorsement:
    """One endorsement in a certificate: who endorsed (account, organization id and name as
    the registry lists the member) and the EIP-712 signature, as hex text."""

    member: str
    organization_id: str
    organization: str
    signature: str

    @property
    def signature_bytes(self) -> bytes:
        return bytes.fromhex(self.signature.removeprefix("0x"))

    @property
    def organization_bytes(self) -> bytes:
        return bytes.fromhex(self.organization_id.removeprefix("0x"))


@dataclass(frozen=True)
class DepositorSignature:
    """`depositor_signature`: the depositor key's EIP-712 Deposit signature of the leaf, with
    the key's organization id and name as the registry lists it, as hex text."""

    signer: str
    organization_id: str
    organization: str
    signature: str

    @property
    def signature_bytes(self) -> bytes:
        return bytes.fromhex(self.signature.removeprefix("0x"))

    def as_document(self) -> dict[str, str]:
        return {
            "signer": self.signer,
            "organization_id": self.organization_id,
            "organization": self.organization,
            "signature": self.signature,
        }


@dataclass(frozen=True)
class EndorsementRecord:
    """`anchor.endorsement`: the threshold k in force and the endorsements, in document order."""

    threshold: int
    endorsements: tuple[MemberEndorsement, ...]


@dataclass(frozen=True, kw_only=True)
class CertificateV2(Certificate):
    """A parsed version 2 certificate: version 1's parts plus the batch time and the
    endorsements, and the depositor's signature (None: the deposit was not signed)."""

    batch_time: int
    endorsement: EndorsementRecord
    depositor_signature: DepositorSignature | None = None
    steps: tuple[str, ...] = field(default=VERIFICATION_STEPS)

    def document(self) -> dict[str, Any]:
        return to_document(self)


def to_document(cert: CertificateV2) -> dict[str, Any]:
    """The version 2 JSON document (field order as in the specification)."""
    base = v1.v1_document(cert)
    anchor = dict(base["anchor"])
    anchor["batch_time"] = cert.batch_time
    anchor["endorsement"] = {
        "threshold": cert.endorsement.threshold,
        "endorsements": [
            {
                "member": e.member,
                "organization_id": e.organization_id,
                "organization": e.organization,
                "signature": e.signature,
            }
            for e in cert.endorsement.endorsements
        ],
    }
    return {
        "format": v1.FORMAT,
        "version": VERSION,
        "evidence": base["evidence"],
        "leaf": base["leaf"],
        "proof": base["proof"],
        "anchor": anchor,
        "depositor_signature": (
            None if cert.depositor_signature is None else cert.depositor_signature.as_document()
        ),
        "verification": {"specification": SPECIFICATION, "steps": list(cert.steps)},
    }


def issue_v2(
    evidence: EvidenceRecord,
    leaf: Leaf,
    leaf_hash: bytes,
    tree: MerkleTree,
    anchor: AnchorRecord,
    *,
    registry_kind: RegistryKind,
    batch_time: int,
    threshold: int,
    endorsements: Iterable[MemberEndorsement],
    depositor_signature: DepositorSignature | None = None,
) -> CertificateV2:
    """The version 2 certificate of `evidence` (as v1's issue) whose batch `registry_kind`
    registry anchored with `endorsements` of the batch time `batch_time` under threshold
    `threshold`. Endorsements are written ascending by member address (the registry's
    order), addresses in EIP-55. ValidationError when the result would not be a
    well-formed version 2 certificate (wrong kind, malformed hex, a name too long)."""
    if registry_kind != "consortium":
        raise ValidationError(
            f"a version 2 certificate needs a consortium registry anchor, not {registry_kind!r}"
        )
    entries = sorted(
        (
            MemberEndorsement(
                member=_checksum(e.member),
                organization_id=e.organization_id.lower(),
                organization=e.organization,
                signature=e.signature.lower(),
            )
            for e in endorsements
        ),
        key=lambda e: int(e.member, 16),
    )
    cert = CertificateV2(
        evidence=evidence,
        leaf=leaf,
        leaf_hash=leaf_hash,
        proof=tuple(tree.proof(leaf_hash)),
        anchor=anchor,
        batch_time=batch_time,
        endorsement=EndorsementRecord(threshold, tuple(entries)),
        depositor_signature=(
            None
            if depositor_signature is None
            else DepositorSignature(
                signer=_checksum(depositor_signature.signer),
                organization_id=depositor_signature.organization_id.lower(),
                organization=depositor_signature.organization,
                signature=depositor_signature.signature.lower(),
            )
        ),
    )
    try:
        from_document(to_document(cert))
    except CertificateFormatError as exc:
        raise ValidationError(str(exc)) from exc
    return cert


def _checksum(address: str) -> str:
    try:
        return str(to_checksum_address(address))
    except ValueError as exc:
        raise ValidationError(f"{address!r} is not an address") from exc


@cache
def schema() -> dict[str, Any]:
    """The published JSON Schema of certificate v2."""
    text = resources.files("notary.core").joinpath("certificate-v2.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Any:  # noqa: ANN401  (jsonschema builds the class at run time)
    return v1.ecma_validator(schema())


def version_of(document: object) -> int | None:
    """The `version` of a decoded certificate when it is written as an integer, else None."""
    if not isinstance(document, dict):
        return None
    version = document.get("version")
    if isinstance(version, int) and not isinstance(version, bool):
        return version
    return None


def loads(text: str | bytes) -> Certificate:
    """Parse a certificate of version 1 or 2 (docs/certificate-v2.md, "Reading").

    The reading rules of docs/certificate.md section 2 apply to both; a version above 2 is
    UnsupportedVersionError (cannot decide). A version 1 document gives a Certificate, a
    version 2 document a CertificateV2. Raises JsonInputError ("too_large", "too_deep")
    for a certificate refused unread, CertificateFormatError for anything else malformed.
    """
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    document = v1.read_json(raw)
    if not isinstance(document, dict) or document.get("format") != v1.FORMAT:
        return v1.loads(raw)  # the version 1 reader names the defect
    version = version_of(document)
    if version is not None and version > VERSION:
        raise UnsupportedVersionError(
            f"certificate version {version} is newer than this verifier (reads 1 and {VERSION})"
        )
    if version != VERSION:
        return v1.loads(raw)
    v1.check_numbers(raw)
    return from_document(document)


def from_document(document: object) -> CertificateV2:
    """Validate a decoded version 2 document (schema, then rules beyond it) and build it."""
    if version_of(document) != VERSION or not isinstance(document, dict):
        raise CertificateFormatError("not a version 2 certificate")
    error = jsonschema.exceptions.best_match(_validator().iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise CertificateFormatError(
            f"certificate does not match the version 2 schema at {where}: {error.message}"
        )
    try:
        base = v1.build_parts(document)
        anchor = document["anchor"]
        entries = []
        for i, e in enumerate(anchor["endorsement"]["endorsements"]):
            check_address(f"anchor.endorsement.endorsements[{i}].member", e["member"])
            if len(e["organization"].encode("utf-8")) > MAX_ORGANIZATION_BYTES:
                raise ValidationError(
                    f"anchor.endorsement.endorsements[{i}].organization is longer than "
                    f"{MAX_ORGANIZATION_BYTES} UTF-8 bytes: no member name on chain can be"
                )
            entries.append(
                MemberEndorsement(
                    e["member"], e["organization_id"], e["organization"], e["signature"]
                )
            )
        signed = _depositor_signature(document["depositor_signature"])
    except ValidationError as exc:
        raise CertificateFormatError(f"certificate is not valid: {exc}") from exc
    shared = {f.name: getattr(base, f.name) for f in fields(Certificate)}
    return CertificateV2(
        **shared,
        batch_time=anchor["batch_time"],
        endorsement=EndorsementRecord(anchor["endorsement"]["threshold"], tuple(entries)),
        depositor_signature=signed,
    )


def _depositor_signature(d: dict[str, str] | None) -> DepositorSignature | None:
    """The schema-checked `depositor_signature`, with the rules beyond the schema (EIP-55,
    the 128-byte name)."""
    if d is None:
        return None
    check_address("depositor_signature.signer", d["signer"])
    if len(d["organization"].encode("utf-8")) > MAX_ORGANIZATION_BYTES:
        raise ValidationError(
            f"depositor_signature.organization is longer than {MAX_ORGANIZATION_BYTES} UTF-8 "
            "bytes: no member name on chain can be"
        )
    return DepositorSignature(d["signer"], d["organization_id"], d["organization"], d["signature"])
