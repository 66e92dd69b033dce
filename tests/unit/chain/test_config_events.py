"""Raw configuration logs (MemberSet, MemberRemoved, PolicySet) as a node returns them,
decoded without web3's event decoder (notary.chain.consortium._config_event): what a node
may answer with, and what it must not get away with."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode

from notary.chain.consortium import CONFIG_TOPICS, _config_event
from notary.chain.eip712 import Role
from notary.errors import ChainError

ACCOUNT = bytes(12) + bytes.fromhex("359df4b29b92b414b7dac42519034f7e42cbd62f")
ORGANIZATION = bytes(range(32))
NONCE = (7).to_bytes(32, "big")


def raw(topics: list[bytes], data: bytes) -> Any:
    return {"topics": topics, "data": data, "blockNumber": 5, "logIndex": 2,
            "transactionHash": b"\x01" * 32}  # fmt: skip


def member_set(role: int, name: bytes) -> Any:
    topics = [CONFIG_TOPICS["MemberSet"], ACCOUNT, ORGANIZATION, NONCE]
    return raw(topics, encode(["uint8", "bytes"], [role, name]))


def test_a_member_set_log_reads_as_web3_would_shape_it() -> None:
    event = _config_event(member_set(int(Role.ENDORSER), "杭州互联网法院".encode()))
    assert event["event"] == "MemberSet" and (event["blockNumber"], event["logIndex"]) == (5, 2)
    assert event["args"] == {
        "account": "0x359Df4B29b92B414b7DaC42519034f7e42cBD62f",
        "organization": ORGANIZATION,
        "configNonce": 7,
        "role": int(Role.ENDORSER),
        "name": "杭州互联网法院",
    }
    policy = _config_event(
        raw([CONFIG_TOPICS["PolicySet"], NONCE], encode(["uint16", "uint256"], [2, 3]))
    )
    assert policy["args"] == {"threshold": 2, "endorsers": 3, "configNonce": 7}
    removed = _config_event(raw([CONFIG_TOPICS["MemberRemoved"], ACCOUNT, NONCE], b""))
    assert removed["args"]["account"] == "0x359Df4B29b92B414b7DaC42519034f7e42cBD62f"


@pytest.mark.parametrize(
    "log",
    [
        raw([], b""),  # no topic at all
        raw([b"\x00" * 32], b""),  # another event
        raw([CONFIG_TOPICS["MemberSet"], ACCOUNT], b""),  # topics cut short
        raw([CONFIG_TOPICS["MemberSet"], ACCOUNT, ORGANIZATION, NONCE], b"\x00" * 40),
        member_set(9, b"a role the registry does not have"),
        raw([CONFIG_TOPICS["PolicySet"], NONCE], b"\x00" * 31),
    ],
)
def test_a_log_that_cannot_be_read_is_a_chain_error(log: Any) -> None:
    with pytest.raises(ChainError, match="configuration log that cannot be read"):
        _config_event(log)
