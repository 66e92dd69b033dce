"""ConsortiumRegistry (the published build) on the real anvil, through the Python binding.

Endorsers are fresh keys that only sign (EIP-712, notary.chain.eip712); the notary and the
relay are funded dev accounts. Each test that changes members or the policy deploys its
own registry, so the tests do not depend on each other's order.
"""

from __future__ import annotations

import json
import os
import re
from contextlib import AbstractContextManager
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from notary.chain import eip712
from notary.chain.artifact import consortium_build
from notary.chain.consortium import (
    CONFIG_TOPICS,
    ConsortiumReader,
    ConsortiumWriter,
    Member,
    deploy_consortium,
)
from notary.chain.eip712 import Batch, MemberChange, Role
from notary.chain.registry import RegistryReader, connect
from notary.chain.transactions import send
from notary.core.merkle import build_tree
from notary.errors import AlreadyAnchoredError, MissingRoleError, TransactionFailedError
from notary.ops.keys import dev_account
from tests.conftest import run_cli

pytestmark = pytest.mark.devnet

NOTARY = dev_account(8)
RELAY = dev_account(9)
ENDORSERS = [Account.from_key(keccak(text=f"consortium endorser {i}")) for i in range(4)]
STRANGER = Account.from_key(keccak(text="not a member"))


def org(name: str) -> bytes:
    return keccak(text=name)


def genesis(endorsers: int = 3) -> list[MemberChange]:
    return [
        MemberChange(NOTARY.address, Role.NOTARY, org("operator"), "operator notary"),
        *(
            MemberChange(e.address, Role.ENDORSER, org(f"org {i}"), f"endorser {i}")
            for i, e in enumerate(ENDORSERS[:endorsers])
        ),
        MemberChange(STRANGER.address, Role.OBSERVER, org("court"), "observing court"),
    ]


def new_registry(chain, account: LocalAccount = NOTARY, threshold: int = 2) -> ConsortiumWriter:
    w3 = connect(chain.rpc_url)
    address = deploy_consortium(w3, RELAY, genesis(), threshold, chain.rpc_url)
    return ConsortiumWriter(w3, address, account, chain.rpc_url)


@pytest.fixture(scope="module")
def registry(chain) -> ConsortiumWriter:
    """A 2-of-3 registry that no test reconfigures."""
    return new_registry(chain)


def batch_for(reg: ConsortiumReader, root: bytes | None = None, age: int = 0) -> Batch:
    _, now = reg.block(reg.latest_block_number())
    return Batch(root or os.urandom(32), 7, "bafy-manifest", now - age)


def endorse(reg: ConsortiumReader, batch: Batch, *signers: LocalAccount) -> list[bytes]:
    chain_id = reg.chain_id()
    return eip712.sorted_signatures(
        (s.address, eip712.sign_endorsement(s, chain_id, reg.address, batch)) for s in signers
    )


def approve(
    reg: ConsortiumReader,
    changes: list[MemberChange],
    threshold: int,
    *signers: LocalAccount,
    nonce: int | None = None,
) -> tuple[int, int, list[bytes]]:
    """(nonce, deadline, sorted signatures) approving `changes` with `threshold`."""
    nonce = reg.config_nonce() if nonce is None else nonce
    _, now = reg.block(reg.latest_block_number())
    deadline = now + 600
    typed = eip712.config_change_typed_data(
        reg.chain_id(), reg.address, changes, threshold, nonce, deadline
    )
    signatures = eip712.sorted_signatures((s.address, eip712.sign(s, typed)) for s in signers)
    return nonce, deadline, signatures


def refused(name: str) -> AbstractContextManager[Any]:
    """Expect the registry to refuse with custom error ConsortiumRegistry__`name`."""
    return pytest.raises(TransactionFailedError, match=re.escape(f"ConsortiumRegistry__{name}"))


def as_relay(reg: ConsortiumWriter) -> ConsortiumWriter:
    return ConsortiumWriter(reg.w3, reg.address, RELAY, reg.rpc_url)


def test_genesis_members_and_policy(registry) -> None:
    members = {m.account: m for m in registry.members()}
    assert set(members) == {x.account for x in genesis()}
    assert members[ENDORSERS[1].address] == Member(
        ENDORSERS[1].address, Role.ENDORSER, org("org 1"), "endorser 1"
    )
    assert (registry.threshold(), registry.endorser_count(), registry.config_nonce()) == (2, 3, 1)
    assert registry.member(RELAY.address).role is Role.NONE
    at_genesis = registry.members_at(registry.latest_block_number())
    assert (at_genesis.threshold, at_genesis.config_nonce) == (2, 0)
    assert set(at_genesis.members) == set(members.values())


def test_local_eip712_digests_equal_the_contracts(registry) -> None:
    batch = batch_for(registry)
    typed = eip712.endorsement_typed_data(registry.chain_id(), registry.address, batch)
    assert eip712.digest(typed) == registry.endorsement_digest(batch)
    changes = [MemberChange(RELAY.address, Role.OBSERVER, org("x"), "名前"), genesis()[1]]
    change = eip712.config_change_typed_data(
        registry.chain_id(), registry.address, changes, 2, 5, 99
    )
    assert eip712.digest(change) == registry.config_change_digest(changes, 2, 5, 99)


def test_anchor_with_threshold_met_records_endorsers(registry) -> None:
    leaves = [os.urandom(32) for _ in range(5)]
    tree = build_tree(leaves)
    batch = Batch(tree.root, 5, "bafy-batch", batch_for(registry).batch_time)
    before = registry.anchor_count()
    result = registry.anchor(batch, endorse(registry, batch, ENDORSERS[2], ENDORSERS[0]))
    assert result.anchor.notary == NOTARY.address and result.anchor.sequence == before + 1
    endorsement = registry.endorsement_of(batch.root)
    assert endorsement.batch_time == batch.batch_time and endorsement.threshold == 2
    assert endorsement.endorsers == tuple(
        sorted((ENDORSERS[0].address, ENDORSERS[2].address), key=lambda a: int(a, 16))
    )
    endorsed = registry.events_in(registry.receipt(result.tx_hash), "Endorsed")
    assert len(endorsed) == 1 and tuple(endorsed[0]["endorsers"]) == endorsement.endorsers
    # a v1 reader (EvidenceRegistry ABI) reads the consortium registry unchanged
    v1 = RegistryReader(registry.w3, registry.address, registry.rpc_url)
    assert v1.anchor_of(batch.root) == result.anchor
    assert v1.root_at(result.anchor.sequence) == batch.root
    assert v1.log_head() == result.anchor.log_head
    assert v1.verify(batch.root, tree.proof(leaves[2]), leaves[2]) == result.anchor.timestamp
    assert v1.verify(batch.root, tree.proof(leaves[2]), leaves[3]) == 0
    with pytest.raises(AlreadyAnchoredError):
        registry.anchor(batch, endorse(registry, batch, *ENDORSERS[:3]))


def test_threshold_unmet_duplicate_and_non_member_are_refused(registry) -> None:
    batch = batch_for(registry)
    before = registry.anchor_count()
    one = endorse(registry, batch, ENDORSERS[0])
    with refused("NotEnoughSignatures(1, 2)"):
        registry.anchor(batch, one)
    with refused("SignersNotSorted(1, "):
        registry.anchor(batch, one + one)
    # the observer is a member, but not an endorser; an outsider is nobody
    for outsider in (STRANGER, RELAY):
        signatures = [
            eip712.sign_endorsement(outsider, registry.chain_id(), registry.address, batch),
            *endorse(registry, batch, ENDORSERS[1]),
        ]
        with refused(f"NotAnEndorser(0, {outsider.address.lower()})"):
            registry.anchor(batch, signatures)
    with refused("InvalidSignature(0)"):
        registry.anchor(batch, [b"\x01" * 65, *endorse(registry, batch, ENDORSERS[1])])
    assert registry.anchor_count() == before


def test_replayed_endorsements_are_refused(chain, registry) -> None:
    batch = batch_for(registry)
    signatures = endorse(registry, batch, ENDORSERS[0], ENDORSERS[1])
    other_root = Batch(os.urandom(32), batch.leaf_count, batch.manifest, batch.batch_time)
    with refused("NotAnEndorser(0, "):
        registry.anchor(other_root, signatures)
    other_registry = new_registry(chain)  # same members, another address
    with refused("NotAnEndorser(0, "):
        other_registry.anchor(batch, signatures)
    other_chain = eip712.sorted_signatures(
        (e.address, eip712.sign_endorsement(e, registry.chain_id() + 1, registry.address, batch))
        for e in ENDORSERS[:2]
    )
    with refused("NotAnEndorser(0, "):
        registry.anchor(batch, other_chain)
    registry.anchor(batch, signatures)  # the genuine endorsements do work, here
    assert other_registry.anchor_of(batch.root).sequence == 0


def test_only_notaries_anchor(registry) -> None:
    batch = batch_for(registry)
    signatures = endorse(registry, batch, ENDORSERS[0], ENDORSERS[1])
    for caller in (RELAY, dev_account(7)):
        other = ConsortiumWriter(registry.w3, registry.address, caller, registry.rpc_url)
        with pytest.raises(MissingRoleError) as raised:
            other.anchor(batch, signatures)
        assert raised.value.account.lower() == caller.address.lower()
    assert registry.anchor_of(batch.root).sequence == 0


def test_stale_and_future_batch_times_are_refused(registry) -> None:
    stale = batch_for(registry, age=3600 + 120)
    with refused("BatchTimeTooOld"):
        registry.anchor(stale, endorse(registry, stale, ENDORSERS[0], ENDORSERS[1]))
    future = batch_for(registry, age=-600)
    with refused("BatchTimeInFuture"):
        registry.anchor(future, endorse(registry, future, ENDORSERS[0], ENDORSERS[1]))
    recent = batch_for(registry, age=3000)  # within the hour
    registry.anchor(recent, endorse(registry, recent, ENDORSERS[0], ENDORSERS[1]))


def test_policy_change_by_quorum_and_members_at_block(chain) -> None:
    reg = new_registry(chain)
    before = reg.latest_block_number()
    changes = [
        MemberChange(ENDORSERS[3].address, Role.ENDORSER, org("org 3"), "endorser 3"),
        MemberChange.remove(STRANGER.address),
    ]
    nonce, deadline, signatures = approve(reg, changes, 3, ENDORSERS[0], ENDORSERS[2])
    receipt = as_relay(reg).change_config(changes, 3, nonce, deadline, signatures)  # a relay
    applied = receipt["blockNumber"]
    assert (reg.threshold(), reg.endorser_count(), reg.config_nonce()) == (3, 4, 2)
    (config,) = reg.events_in(receipt, "ConfigChanged")
    assert config["configNonce"] == 1 and len(config["approvers"]) == 2

    then, now = reg.members_at(before), reg.members_at(applied)
    assert (then.threshold, then.config_nonce, len(then.endorsers)) == (2, 0, 3)
    assert (now.threshold, now.config_nonce, len(now.endorsers)) == (3, 1, 4)
    assert STRANGER.address in {m.account for m in then.members}
    assert STRANGER.address not in {m.account for m in now.members}

    batch = batch_for(reg)
    with refused("NotEnoughSignatures(2, 3)"):  # the old quorum no longer suffices
        reg.anchor(batch, endorse(reg, batch, ENDORSERS[0], ENDORSERS[1]))
    reg.anchor(batch, endorse(reg, batch, ENDORSERS[0], ENDORSERS[1], ENDORSERS[3]))
    with refused("WrongConfigNonce(1, 2)"):  # an applied change cannot be replayed
        reg.change_config(changes, 3, nonce, deadline, signatures)

    result = run_cli(
        chain.settings,
        *("audit", "members", "--at", str(before), "--json"),
        *("--rpc", chain.rpc_url, "--registry", reg.address),
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert (shown["block"], shown["threshold"], shown["endorsers"]) == (before, 2, 3)
    assert {m["account"] for m in shown["members"]} == {m.account for m in then.members}
    text = run_cli(
        chain.settings,
        *("audit", "members", "--at", str(applied)),
        *("--rpc", chain.rpc_url, "--registry", reg.address),
    )
    assert "policy 3 of 4 endorsers (configuration 1)" in text.stdout
    assert f"endorser {ENDORSERS[3].address} organization 0x{org('org 3').hex()}" in text.stdout
    v1 = run_cli(
        chain.settings,
        *("audit", "members", "--at", str(applied)),
        *("--rpc", chain.rpc_url, "--registry", chain.deployment.registry),
    )
    assert v1.returncode == 2 and "not a ConsortiumRegistry" in v1.stderr
    future = run_cli(
        chain.settings,
        *("audit", "members", "--at", str(reg.latest_block_number() + 1000)),
        *("--rpc", chain.rpc_url, "--registry", reg.address),
    )
    assert future.returncode == 2 and "is not mined yet" in future.stderr, future.stderr


def test_a_lone_endorser_or_outsider_cannot_change_anything(chain) -> None:
    reg = new_registry(chain)
    takeover = [MemberChange(RELAY.address, Role.ENDORSER, org("relay"), "me")]
    nonce, deadline, lone = approve(reg, takeover, 1, ENDORSERS[0])
    with refused("NotEnoughSignatures(1, 2)"):
        as_relay(reg).change_config(takeover, 1, nonce, deadline, lone)
    _, _, outsiders = approve(reg, takeover, 1, RELAY, STRANGER)
    with refused("NotAnEndorser(0, "):
        as_relay(reg).change_config(takeover, 1, nonce, deadline, outsiders)
    _, _, for_k1 = approve(reg, takeover, 1, ENDORSERS[0], ENDORSERS[1])
    with refused("NotAnEndorser(0, "):  # approvals of k=1 do not approve k=2
        as_relay(reg).change_config(takeover, 2, nonce, deadline, for_k1)
    _, _, bad_k = approve(reg, takeover, 5, ENDORSERS[0], ENDORSERS[1])
    with refused("InvalidThreshold(5, 4)"):
        as_relay(reg).change_config(takeover, 5, nonce, deadline, bad_k)
    assert (reg.threshold(), reg.endorser_count(), reg.config_nonce()) == (2, 3, 1)
    assert reg.member(RELAY.address).role is Role.NONE


def test_a_removed_endorser_no_longer_counts(chain) -> None:
    reg = new_registry(chain)
    earlier = batch_for(reg)
    reg.anchor(earlier, endorse(reg, earlier, ENDORSERS[0], ENDORSERS[2]))
    recorded = reg.endorsement_of(earlier.root)
    removal = [MemberChange.remove(ENDORSERS[2].address)]
    nonce, deadline, signatures = approve(reg, removal, 2, ENDORSERS[0], ENDORSERS[1])
    reg.change_config(removal, 2, nonce, deadline, signatures)
    batch = batch_for(reg)
    with refused("NotAnEndorser"):
        reg.anchor(batch, endorse(reg, batch, ENDORSERS[0], ENDORSERS[2]))
    assert reg.endorsement_of(earlier.root) == recorded  # what was anchored stays as it was
    assert reg.member(ENDORSERS[2].address).role is Role.NONE


def test_a_member_name_that_is_not_utf8_is_read_and_matches_no_certificate(chain) -> None:
    """The contract stores a name's bytes as given. One that is not UTF-8 must not stop the
    replay of the members (E3, notary audit members); it keeps its bytes (as lone
    surrogates, which no certificate string holds, so it names no certificate's
    organization) and is shown with \\xNN escapes."""
    raw = b"\xff\xfe court \xe4\xb8"  # two invalid bytes, then a cut-off character
    genesis_rows = [
        (c.account, int(c.role), c.organization, c.name.encode("utf-8")) for c in genesis()
    ]
    odd = Account.from_key(keccak(text="endorser with an odd name"))
    genesis_rows.append((odd.address, int(Role.ENDORSER), org("odd"), raw))
    build = consortium_build()
    encoded = abi_encode(["(address,uint8,bytes32,bytes)[]", "uint16"], [genesis_rows, 2])
    # a string's ABI encoding is its bytes': web3 would refuse text that is not UTF-8
    data = "0x" + (build.bytecode + encoded).hex()
    receipt = send(connect(chain.rpc_url), RELAY, {"data": data}, chain.rpc_url)
    reg = ConsortiumReader(connect(chain.rpc_url), receipt["contractAddress"], chain.rpc_url)

    members = {m.account: m for m in reg.members_at(reg.latest_block_number()).members}
    member = members[odd.address]
    assert member.role is Role.ENDORSER and member.organization == org("odd")
    assert member.name.encode("utf-8", "surrogateescape") == raw
    with pytest.raises(UnicodeEncodeError):
        member.name.encode("utf-8")  # so it equals no text a certificate can hold
    assert member.readable_name == "\\xff\\xfe court \\xe4\\xb8"
    assert members[ENDORSERS[0].address].name == "endorser 0"  # the others as they were
    assert reg.last_member_tx(odd.address) == "0x" + bytes(receipt["transactionHash"]).hex()

    for json_flag in ((), ("--json",)):
        shown = run_cli(
            chain.settings,
            *("audit", "members", *json_flag),
            *("--rpc", chain.rpc_url, "--registry", reg.address),
        )
        assert shown.returncode == 0, shown.stderr
        if json_flag:
            names = {m["account"]: m["name"] for m in json.loads(shown.stdout)["members"]}
            assert names[odd.address] == member.readable_name
        else:
            assert f"{odd.address} organization 0x{org('odd').hex()} \\xff\\xfe court" in (
                shown.stdout
            )


def test_the_configuration_topics_are_the_abis() -> None:
    """The raw log reader's topic 0 values are those of the published build's events."""
    abi = {
        item["name"]: item
        for item in consortium_build().abi
        if item["type"] == "event" and item["name"] in CONFIG_TOPICS
    }
    assert set(abi) == {"MemberSet", "MemberRemoved", "PolicySet"}
    for name, item in abi.items():
        signature = f"{name}({','.join(i['type'] for i in item['inputs'])})"
        assert CONFIG_TOPICS[name] == keccak(text=signature), name
