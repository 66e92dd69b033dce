"""Depositor signatures on deposits: checked before anything is recorded.

A deposit may carry its depositor's EIP-712 signature (docs/certificate-v2.md, "Depositor
signature") of the leaf it will become: sha256, sm3 (32 zero bytes when none), metadata
digest (SHA-256 of the canonical metadata as recorded: for a file, with the name, media
type, size and CID the service writes, notary.deposit.content), and the organization's
depositor identity, under the domain of this notary's ConsortiumRegistry. The signature
must recover to one of the organization's active depositor keys; otherwise the whole
request is refused (nothing recorded). A signed request's leaf then names its signer
(notary.core.depositor) and the signature is stored with the evidence for its certificate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from notary.chain.eip712 import DepositVerifier
from notary.core.leaf import EMPTY_METADATA_DIGEST, metadata_digest, sm3_leaf_value
from notary.deposit.request import DepositRequest
from notary.errors import (
    MalformedSignatureError,
    SignatureRequiredError,
    UnregisteredSignerError,
    ValidationError,
)


@dataclass(frozen=True)
class SigningPolicy:
    """What a deposit of one organization is checked against."""

    chain_id: int
    registry: str
    identity: str
    """The organization's depositor identity ("org:<slug>"), signed as `depositor`."""
    keys: frozenset[str]
    """The organization's active depositor keys (EIP-55)."""
    required: bool


def where(n: int, count: int) -> str:
    """The field a request's signature is named by: `signature`, or `items.<n>.signature`."""
    return "signature" if count == 1 else f"items.{n}.signature"


def check(
    policy: SigningPolicy | None,
    requests: Sequence[DepositRequest],
    metadata: Sequence[dict[str, object]] | None = None,
) -> list[DepositRequest]:
    """`requests` with `signer` set for each signed one; DepositorSignatureError naming the
    first refused. `policy` None: this notary takes no signatures (no consortium).
    `metadata`: the final metadata of each request, when it differs from `request.metadata`
    (never, today: a file request already holds the metadata the service writes)."""
    count = len(requests)
    if policy is None:
        for n, r in enumerate(requests):
            if r.signature is not None:
                raise UnregisteredSignerError(
                    where(n, count),
                    "this notary anchors on a single-operator registry: depositor signatures "
                    "need the consortium registry, where depositor keys are registered",
                )
        return list(requests)
    verifier = DepositVerifier(policy.chain_id, policy.registry, policy.identity)
    keys = {bytes.fromhex(k[2:]): k for k in policy.keys}
    out = []
    for n, r in enumerate(requests):
        if r.signature is None:
            if policy.required:
                raise SignatureRequiredError(
                    where(n, count),
                    "this organization requires a depositor signature on every deposit",
                )
            out.append(r)
            continue
        try:
            given = r.metadata if metadata is None else metadata[n]
            digest = metadata_digest(given) if given else EMPTY_METADATA_DIGEST
        except ValidationError:
            out.append(r)  # the metadata is refused by the deposit's own validation
            continue
        try:
            raw = verifier.recover_address(r.signature, r.sha256, sm3_leaf_value(r.sm3), digest)
        except ValidationError as exc:
            raise MalformedSignatureError(where(n, count), str(exc)) from exc
        signer = keys.get(raw)
        if signer is None:
            raise UnregisteredSignerError(
                where(n, count),
                f"the signature recovers to {to_checksum_address('0x' + raw.hex())}, which is "
                "not an active depositor key of "
                "this organization: it was made with another key, or over other content, "
                f"metadata or depositor than this deposit's (sha256 {r.sha256.hex()}, "
                f"depositor {policy.identity!r}, chain {policy.chain_id}, registry "
                f"{policy.registry})",
            )
        out.append(dataclasses.replace(r, signer=signer))
    return out
