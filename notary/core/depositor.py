"""The depositor value of a signed leaf, and the organization id a depositor key is registered
under (docs/certificate-v2.md, "Depositor signature").

Changing anything here breaks every certificate already issued with a depositor signature.

A deposit signed by a depositor key has, as its leaf's depositor value (leaf value 5),

    <identity>;signer=<address>

where `<identity>` is the organization's depositor identity (the value an unsigned deposit
of that organization has: "org:<slug>" for this service) and `<address>` the signing key's
address, `0x` + 40 hex digits in EIP-55 form. So the anchored leaf itself names the signer:
the operator cannot later add, drop or swap the signature of a certificate without the leaf
(and so the anchored root) disagreeing. The key's organization on chain (its MemberSet
`organization`) is keccak256 of the UTF-8 bytes of `<identity>`.
"""

from __future__ import annotations

import re
from typing import Final

from eth_utils.address import to_checksum_address

from notary.core.keccak import keccak256
from notary.errors import ValidationError

SIGNER_SEPARATOR: Final = ";signer="
_SIGNED: Final = re.compile(r"(.+);signer=(0x[0-9a-fA-F]{40})", re.DOTALL)


def signed_depositor(identity: str, signer: str) -> str:
    """The leaf depositor value of `identity`'s deposit signed by `signer`."""
    if SIGNER_SEPARATOR in identity:
        raise ValidationError(f"a depositor identity cannot contain {SIGNER_SEPARATOR!r}")
    return f"{identity}{SIGNER_SEPARATOR}{to_checksum_address(signer)}"


def split_depositor(depositor: str) -> tuple[str, str | None]:
    """(identity, signer) of a leaf depositor value: signer is None for an unsigned one.

    The signer is returned as written; whether it is valid EIP-55 is the reader's rule
    (a certificate verifier treats a bad checksum as invalid)."""
    match = _SIGNED.fullmatch(depositor)
    if match is None:
        return depositor, None
    return match.group(1), match.group(2)


def organization_id(identity: str) -> bytes:
    """The 32-byte organization id a depositor key of `identity` is registered under."""
    return keccak256(identity.encode("utf-8"))
