"""The depositor's EIP-712 Deposit signature: the written-out digest is eth_account's
encoder's, signatures round-trip, the malleable twin and malformed ones are refused, and
the leaf's depositor value names its signer unambiguously (notary.core.depositor)."""

from __future__ import annotations

import secrets

import pytest
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from notary.chain import eip712
from notary.core.depositor import organization_id, signed_depositor, split_depositor
from notary.core.keccak import keccak256
from notary.errors import ValidationError

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
KEY = Account.from_key(keccak256(b"deposit signature unit test"))


@settings(max_examples=25, deadline=None)
@given(
    sha256=st.binary(min_size=32, max_size=32),
    sm3=st.binary(min_size=32, max_size=32),
    digest=st.binary(min_size=32, max_size=32),
    depositor=st.text(min_size=1, max_size=40),
    chain_id=st.integers(min_value=1, max_value=2**64),
)
def test_the_written_out_digest_is_the_eip712_encoders(
    sha256: bytes, sm3: bytes, digest: bytes, depositor: str, chain_id: int
) -> None:
    claim = eip712.DepositClaim(sha256, sm3, digest, depositor)
    typed = eip712.deposit_typed_data(chain_id, REGISTRY, claim)
    verifier = eip712.DepositVerifier(chain_id, REGISTRY, depositor)
    assert verifier.digest(sha256, sm3, digest) == eip712.digest(typed)


def test_a_signature_recovers_to_its_key_and_only_over_what_it_signed() -> None:
    claim = eip712.DepositClaim(secrets.token_bytes(32), bytes(32), bytes(32), "org:a")
    signature = eip712.sign_deposit(KEY, 31337, REGISTRY, claim)
    assert signature == eip712.sign(KEY, eip712.deposit_typed_data(31337, REGISTRY, claim))
    verifier = eip712.DepositVerifier(31337, REGISTRY, "org:a")
    assert (
        verifier.recover(signature, claim.sha256, claim.sm3, claim.metadata_digest) == KEY.address
    )
    other = eip712.DepositVerifier(31337, REGISTRY, "org:b")  # another depositor identity
    assert other.recover(signature, claim.sha256, claim.sm3, claim.metadata_digest) != KEY.address
    chain_1 = eip712.DepositVerifier(1, REGISTRY, "org:a")
    assert chain_1.recover(signature, claim.sha256, claim.sm3, claim.metadata_digest) != KEY.address


@pytest.mark.parametrize("defect", ["short", "v", "high s"])
def test_malformed_signatures_are_refused(defect: str) -> None:
    claim = eip712.DepositClaim(secrets.token_bytes(32), bytes(32), bytes(32), "org:a")
    signature = eip712.sign_deposit(KEY, 31337, REGISTRY, claim)
    if defect == "short":
        signature = signature[:64]
    elif defect == "v":
        signature = signature[:64] + b"\x01"
    else:
        s = int.from_bytes(signature[32:64], "big")
        twin = (2 * eip712.HALF_N + 1 - s).to_bytes(32, "big")
        signature = signature[:32] + twin + bytes([55 - signature[64]])
    verifier = eip712.DepositVerifier(31337, REGISTRY, "org:a")
    with pytest.raises(ValidationError):
        verifier.recover(signature, claim.sha256, claim.sm3, claim.metadata_digest)


def test_the_leaf_depositor_names_its_signer() -> None:
    value = signed_depositor("org:studio", KEY.address.lower())
    assert value == f"org:studio;signer={KEY.address}"  # written EIP-55
    assert split_depositor(value) == ("org:studio", KEY.address)
    assert split_depositor("org:studio") == ("org:studio", None)
    assert split_depositor("org:a;signer=0x12") == ("org:a;signer=0x12", None)  # no address
    assert organization_id("org:studio") == keccak256(b"org:studio")
    with pytest.raises(ValidationError):
        signed_depositor("org:x;signer=y", KEY.address)
