"""An endorser's checks of a depositor key change (notary.endorser.checks.check_key_change):
a change that is exactly what it claims passes, and each way of being something else is
refused with its reason. Pure: signatures are real (eth_account), the chain's answers are
given."""

from __future__ import annotations

import dataclasses
import secrets

import pytest
from eth_account import Account

from notary.chain import eip712
from notary.chain.consortium import Member
from notary.chain.eip712 import Role
from notary.core.depositor import organization_id
from notary.endorser.checks import KeyChange, RegistryState, check_key_change

CHAIN_ID, REGISTRY, NOW = 31337, "0x" + "ab" * 20, 1_800_000_000
KEY = Account.from_key(secrets.token_bytes(32))
IDENTITY = "org:studio"


def _consent(signer=KEY, account: str = KEY.address, identity: str = IDENTITY) -> bytes:
    typed = eip712.depositor_key_typed_data(CHAIN_ID, REGISTRY, account, identity)
    return eip712.sign(signer, typed)


ADD = KeyChange(
    bytes(32),
    KEY.address,
    Role.DEPOSITOR,
    organization_id(IDENTITY),
    "杭州童装工作室",
    IDENTITY,
    _consent(),
    2,
    7,
    NOW + 900,
    CHAIN_ID,
    REGISTRY,
)
REMOVE = dataclasses.replace(ADD, role=Role.NONE, organization=bytes(32), name="", consent=None)
NONE = Member(KEY.address, Role.NONE, bytes(32), "")
DEPOSITOR = Member(KEY.address, Role.DEPOSITOR, organization_id(IDENTITY), "杭州童装工作室")


def _state(member: Member = NONE, **changes: object) -> RegistryState:
    state = RegistryState(CHAIN_ID, REGISTRY, 7, 2, member)
    return dataclasses.replace(state, **changes)  # type: ignore[arg-type]


def test_an_exact_add_and_an_exact_removal_pass() -> None:
    assert check_key_change(ADD, _state(), NOW) is None
    assert check_key_change(REMOVE, _state(DEPOSITOR), NOW) is None


@pytest.mark.parametrize(
    ("change", "state", "reason"),
    [
        (ADD, _state(chain_id=1), "this endorser serves"),
        (ADD, _state(registry="0x" + "cd" * 20), "this endorser serves"),
        (ADD, _state(threshold=3), "sets k to 2"),
        (ADD, _state(config_nonce=8), "config nonce 7; the registry expects 8"),
        (dataclasses.replace(ADD, deadline=NOW), _state(), "has passed"),
        (dataclasses.replace(ADD, deadline=NOW + 3601), _state(), "at most 3600 s"),
        (
            dataclasses.replace(ADD, organization=organization_id("org:other")),
            _state(),
            "is not keccak256 of the depositor identity",
        ),
        (dataclasses.replace(ADD, name=""), _state(), "empty or longer"),
        (dataclasses.replace(ADD, name="名" * 43), _state(), "empty or longer"),
        (ADD, _state(dataclasses.replace(NONE, role=Role.ENDORSER)), "holds the role ENDORSER"),
        (ADD, _state(DEPOSITOR), "holds the role DEPOSITOR"),
        (dataclasses.replace(ADD, consent=None), _state(), "carries no consent"),
        (dataclasses.replace(ADD, consent=bytes(64) + b"\x1b"), _state(), "not a valid signature"),
        (
            dataclasses.replace(ADD, consent=_consent(Account.from_key(secrets.token_bytes(32)))),
            _state(),
            "recovers to",
        ),
        (
            dataclasses.replace(ADD, consent=_consent(identity="org:other")),
            _state(),
            "recovers to",
        ),
        (REMOVE, _state(NONE), "is not a DEPOSITOR"),
        (
            REMOVE,
            _state(dataclasses.replace(DEPOSITOR, organization=organization_id("org:other"))),
            "not of 'org:studio'",
        ),
        (dataclasses.replace(REMOVE, name="x"), _state(DEPOSITOR), "zero organization"),
        (dataclasses.replace(ADD, role=Role.ENDORSER), _state(), "role ENDORSER: only"),
    ],
)
def test_anything_else_is_refused_with_its_reason(
    change: KeyChange, state: RegistryState, reason: str
) -> None:
    refusal = check_key_change(change, state, NOW)
    assert refusal is not None and reason in refusal, refusal
