"""The depositor signature steps of certificate version 2 (docs/certificate-v2.md, D1 and D2).

Offline (D1): the leaf's depositor names a signer (`<identity>;signer=<address>`) exactly
when the certificate carries `depositor_signature`; then the signer is that address, the
organization id is keccak256 of the identity, and the EIP-712 Deposit signature of the
leaf's sha256, sm3, metadata digest and identity, under the domain of the certificate's
chain id and registry, recovers to the signer. Online (D2): replayed from the registry's
MemberSet / MemberRemoved events up to the anchor's own Anchored log (as the endorsers are,
notary.verify.endorsement), the signer was a DEPOSITOR member of that organization id with
that name. So who deposited rests on the depositor's own key and the consortium's record of
whose key it is, not on the operator's word.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from notary.chain.consortium import ConsortiumReader
from notary.chain.eip712 import DepositVerifier, Role
from notary.core.certificate import check_address
from notary.core.certificate_v2 import CertificateV2
from notary.core.depositor import organization_id, split_depositor
from notary.errors import ValidationError
from notary.verify.endorsement import _anchored_log_index
from notary.verify.steps import Run

CHECK = "depositor signature"
MEMBER_CHECK = "depositor key registered"


@dataclass(frozen=True)
class DepositorSummary:
    """Who signed the deposit, as the verdict reports it."""

    signer: str
    organization: str
    organization_id: str
    block: int

    def as_facts(self) -> dict[str, object]:
        return {
            "signer": self.signer,
            "organization": self.organization,
            "organization_id": self.organization_id,
            "block": self.block,
        }


def offline(run: Run, cert: CertificateV2) -> bool:
    """D1; True when the deposit is signed (so D2 applies)."""
    identity, named = split_depositor(cert.leaf.depositor)
    signed = cert.depositor_signature
    if named is None and signed is None:
        return False
    if named is None:
        run.check(
            CHECK,
            False,
            "",
            "the certificate carries a depositor_signature, but the leaf's depositor names no "
            "signer (';signer=<address>'): the anchored leaf does not commit to that signature",
        )
    if signed is None:
        run.check(
            CHECK,
            False,
            "",
            f"the leaf's depositor names the signer {named}, but the certificate carries no "
            "depositor_signature",
        )
    assert named is not None and signed is not None
    try:
        check_address("the signer in the leaf's depositor", named)
    except ValidationError as exc:
        run.check(CHECK, False, "", str(exc))
    signer = to_checksum_address(named)
    run.check(
        CHECK,
        int(signed.signer, 16) == int(signer, 16),
        "",
        f"depositor_signature.signer is {signed.signer}, the leaf names {signer}",
    )
    expected_id = "0x" + organization_id(identity).hex()
    run.check(
        CHECK,
        signed.organization_id == expected_id,
        "",
        f"depositor_signature.organization_id is {signed.organization_id}, but the "
        f"organization of depositor {identity!r} is keccak256 of it, {expected_id}",
    )
    a, leaf = cert.anchor, cert.leaf
    verifier = DepositVerifier(a.chain_id, a.registry, identity)
    try:
        recovered = verifier.recover(
            signed.signature_bytes, leaf.sha256, leaf.sm3, leaf.metadata_digest
        )
    except ValidationError as exc:
        run.check(CHECK, False, "", f"the depositor signature is not valid: {exc}")
    run.check(
        CHECK,
        recovered == signer,
        f"signed by {signer} over this content, metadata and depositor {identity!r} "
        f"(chain {a.chain_id}, registry {a.registry})",
        f"the depositor signature recovers to {recovered}, not to {signer}: it is not that "
        f"key's signature of this content, metadata and depositor {identity!r} on chain "
        f"{a.chain_id}, registry {a.registry}",
    )
    return True


def online(run: Run, cert: CertificateV2, reader: ConsortiumReader) -> DepositorSummary:
    """D2 (the v1 and endorsement steps have passed: the anchor is on this chain)."""
    signed = cert.depositor_signature
    assert signed is not None
    a = cert.anchor
    signer = to_checksum_address(signed.signer)
    held, left = reader.member_before(signer, a.block_number, _anchored_log_index(reader, cert))
    if held is None or held.role is not Role.DEPOSITOR:
        if held is not None:
            why = f"it was a member with role {held.role.name}"
        elif left is not None:
            why = f"it stopped being one in block {left}"
        else:
            why = "it was never one before the anchor"
        run.check(
            MEMBER_CHECK,
            False,
            "",
            f"the depositor key {signer} was not a DEPOSITOR member of the registry when the "
            f"batch was anchored in block {a.block_number}: {why}",
        )
    assert held is not None
    wrong = []
    if "0x" + held.organization.hex() != signed.organization_id:
        wrong.append(
            f"organization id 0x{held.organization.hex()}, not {signed.organization_id} "
            "(it is another organization's key)"
        )
    if held.name != signed.organization:
        wrong.append(f"name {held.name!r}, not {signed.organization!r}")
    run.check(
        MEMBER_CHECK,
        not wrong,
        f"{signer} was a DEPOSITOR key of {signed.organization} at block {a.block_number}",
        f"on chain, depositor key {signer} has " + " and ".join(wrong),
    )
    return DepositorSummary(signer, signed.organization, signed.organization_id, a.block_number)
