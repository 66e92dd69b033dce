"""A web3.py client for ConsortiumRegistry (docs/consortium.md): deploy, read, anchor, change.

`ConsortiumReader` is a RegistryReader (the v1 views, events and receipts work unchanged:
same signatures, same Anchored event) plus the consortium's own views: members, the policy,
the endorsement of each anchor, and `members_at(block)`, which answers "who was a member,
with which policy, at block B" from the registry's events alone (MemberSet, MemberRemoved,
PolicySet), never from current state. `ConsortiumWriter` anchors with endorsements and
submits quorum-approved configuration changes; it signs with a local account like
RegistryWriter. EIP-712 signing is notary.chain.eip712.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.logs import DISCARD
from web3.types import LogReceipt, TxReceipt

from notary.chain.artifact import consortium_build
from notary.chain.eip712 import Batch, MemberChange, Role
from notary.chain.errors import chain_errors
from notary.chain.events import logs_in_windows
from notary.chain.registry import AnchorReceipt, RegistryReader, connect
from notary.chain.transactions import SignedTx, broadcast, send, sign
from notary.errors import ChainError, TransactionFailedError, ValidationError


@dataclass(frozen=True)
class Member:
    """One member: account, role, organization id (32 bytes) and name."""

    account: str
    role: Role
    organization: bytes
    name: str

    @property
    def readable_name(self) -> str:
        """The name for people and JSON: bytes of the on-chain name that are not UTF-8
        (kept in `name` as lone surrogates, see ConsortiumReader._config_logs) shown as
        \\xNN."""
        return self.name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Endorsement:
    """What the registry recorded with an anchor: the batch time the endorsers signed, the
    threshold in force, and the endorsers (ascending). Zeros and () for an unknown root."""

    batch_time: int
    threshold: int
    endorsers: tuple[str, ...]


@dataclass(frozen=True)
class Configuration:
    """Members and policy at a block: k of the ENDORSER members, set by configuration
    `config_nonce` (0 is genesis)."""

    block: int
    config_nonce: int
    threshold: int
    members: tuple[Member, ...]

    @property
    def endorsers(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.role is Role.ENDORSER)


def connect_consortium_reader(
    rpc_url: str, address: str, *, retries: bool = True
) -> ConsortiumReader:
    """A ConsortiumReader of the registry at `address` through the node at `rpc_url`."""
    return ConsortiumReader(connect(rpc_url, retries=retries), address, rpc_url)


def connect_consortium_writer(
    rpc_url: str, address: str, account: LocalAccount
) -> ConsortiumWriter:
    """A ConsortiumWriter of the registry at `address`, signing with `account`."""
    return ConsortiumWriter(connect(rpc_url), address, account, rpc_url)


class ConsortiumReader(RegistryReader):
    """Read access to one ConsortiumRegistry: holds no key, sends nothing."""

    def __init__(self, w3: Web3, address: str, rpc_url: str = "the RPC endpoint") -> None:
        super().__init__(w3, address, rpc_url)
        self.contract = w3.eth.contract(address=self.address, abi=consortium_build().abi)
        self._replayed: tuple[tuple[int, bytes], list[dict[str, Any]]] | None = None
        """The last _config_logs answer, by block number and hash (verification replays
        the same block for E3 and D2: one scan of the chain, not two)."""

    def member(self, account: str) -> Member:
        """The member record of `account` (role NONE when it is not a member)."""
        with chain_errors(self.rpc_url):
            role, organization, name = self.contract.functions.memberOf(
                to_checksum_address(account)
            ).call()
        return Member(to_checksum_address(account), Role(role), bytes(organization), name)

    def members(self) -> list[Member]:
        """Every current member, in the registry's (unspecified) order."""
        with chain_errors(self.rpc_url):
            accounts = self.contract.functions.members().call()
        return [self.member(a) for a in accounts]

    def threshold(self) -> int:
        with chain_errors(self.rpc_url):
            return int(self.contract.functions.threshold().call())

    def endorser_count(self) -> int:
        with chain_errors(self.rpc_url):
            return int(self.contract.functions.endorserCount().call())

    def config_nonce(self) -> int:
        """The nonce the next configuration change must be signed with."""
        with chain_errors(self.rpc_url):
            return int(self.contract.functions.configNonce().call())

    def endorsement_of(self, root: bytes) -> Endorsement:
        with chain_errors(self.rpc_url):
            batch_time, k, endorsers = self.contract.functions.endorsementOf(root).call()
        return Endorsement(int(batch_time), int(k), tuple(str(e) for e in endorsers))

    def events_in(self, receipt: TxReceipt, name: str) -> list[dict[str, Any]]:
        """The arguments of every `name` event (e.g. "Endorsed", "ConfigChanged") this
        registry emitted in `receipt`; other events and other contracts' logs are skipped."""
        with chain_errors(self.rpc_url):
            event = getattr(self.contract.events, name)()
            logs = event.process_receipt(receipt, errors=DISCARD)
        return [dict(log["args"]) for log in logs if log["address"] == self.address]

    def endorsement_digest(self, batch: Batch) -> bytes:
        """The digest the contract computes for `batch` (for cross-checking signers)."""
        with chain_errors(self.rpc_url):
            return bytes(
                self.contract.functions.endorsementDigest(
                    batch.root, batch.leaf_count, batch.manifest, batch.batch_time
                ).call()
            )

    def config_change_digest(
        self, changes: Sequence[MemberChange], threshold: int, nonce: int, deadline: int
    ) -> bytes:
        with chain_errors(self.rpc_url):
            return bytes(
                self.contract.functions.configChangeDigest(
                    [c.as_tuple() for c in changes], threshold, nonce, deadline
                ).call()
            )

    def members_at(self, block: int) -> Configuration:
        """Members and policy after every transaction of block `block`, replayed from the
        registry's MemberSet, MemberRemoved and PolicySet events (blocks 0..block) alone."""
        if block < 0:
            raise ValidationError("a block number is not negative")
        newest = self.latest_block_number()
        if block > newest:
            raise ValidationError(f"block {block} is not mined yet: the node's newest is {newest}")
        members: dict[str, Member] = {}
        threshold = nonce = 0
        seen_policy = False
        for log in self._config_logs(block):
            args = log["args"]
            if log["event"] == "MemberSet":
                account = str(args["account"])
                members[account] = Member(
                    account, Role(args["role"]), bytes(args["organization"]), str(args["name"])
                )
            elif log["event"] == "MemberRemoved":
                members.pop(str(args["account"]), None)
            else:
                threshold, nonce = int(args["threshold"]), int(args["configNonce"])
                seen_policy = True
        if not seen_policy:
            raise ValidationError(
                f"{self.address} has no consortium configuration up to block {block}: it is "
                "not a ConsortiumRegistry, or it was deployed after that block"
            )
        return Configuration(block, nonce, threshold, tuple(members.values()))

    def configuration_before(
        self, block: int, log_index: int
    ) -> tuple[Configuration, dict[str, int]]:
        """Members and policy in force for the log at (`block`, `log_index`): replayed from
        the MemberSet, MemberRemoved and PolicySet events before it in chain order, so a
        change later in the same block does not count (the certificate v2 verifier reads
        the configuration an anchor was checked against this way). Also: every account
        that stopped being an ENDORSER before then, with the block where it last did."""
        members: dict[str, Member] = {}
        left: dict[str, int] = {}
        threshold = nonce = 0
        seen_policy = False
        for log in self._config_logs(block):
            if (log["blockNumber"], log["logIndex"]) >= (block, log_index):
                break
            args = log["args"]
            if log["event"] in ("MemberSet", "MemberRemoved"):
                account = str(args["account"])
                was = members.get(account)
                if was is not None and was.role is Role.ENDORSER:
                    left[account] = int(log["blockNumber"])
            if log["event"] == "MemberSet":
                members[account] = Member(
                    account, Role(args["role"]), bytes(args["organization"]), str(args["name"])
                )
                if members[account].role is Role.ENDORSER:
                    left.pop(account, None)
            elif log["event"] == "MemberRemoved":
                members.pop(account, None)
            else:
                threshold, nonce = int(args["threshold"]), int(args["configNonce"])
                seen_policy = True
        if not seen_policy:
            raise ValidationError(
                f"{self.address} has no consortium configuration before block {block}: it "
                "is not a ConsortiumRegistry"
            )
        return Configuration(block, nonce, threshold, tuple(members.values())), left

    def member_before(
        self, account: str, block: int, log_index: int
    ) -> tuple[Member | None, int | None]:
        """`account`'s member record in force for the log at (`block`, `log_index`), replayed
        from MemberSet / MemberRemoved events before it in chain order (as
        configuration_before), and the last block before then where it stopped being a
        member of the role it last had (None: it never did)."""
        account = to_checksum_address(account)
        held: Member | None = None
        left: int | None = None
        for log in self._config_logs(block):
            if (log["blockNumber"], log["logIndex"]) >= (block, log_index):
                break
            if log["event"] == "PolicySet" or str(log["args"]["account"]) != account:
                continue
            args = log["args"]
            if log["event"] == "MemberSet":
                new = Member(
                    account, Role(args["role"]), bytes(args["organization"]), str(args["name"])
                )
                if held is not None and (held.role, held.organization) != (
                    new.role,
                    new.organization,
                ):
                    left = int(log["blockNumber"])
                held = new
            else:
                held, left = None, int(log["blockNumber"])
        return held, left

    def last_member_tx(self, account: str) -> str | None:
        """The 0x-hex hash of the transaction that last set or removed `account` as a
        member (its newest MemberSet or MemberRemoved event), None when there is none."""
        account = to_checksum_address(account)
        found: tuple[int, int, str] | None = None
        for log in self._config_logs(self.latest_block_number()):
            if log["event"] != "PolicySet" and log["args"]["account"] == account:
                found = (
                    int(log["blockNumber"]),
                    int(log["logIndex"]),
                    "0x" + bytes(log["transactionHash"]).hex(),
                )
        return None if found is None else found[2]

    def _config_logs(self, block: int) -> list[dict[str, Any]]:
        """MemberSet/MemberRemoved/PolicySet logs of blocks 0..block, in chain order, each
        as web3 shapes a decoded event (event, args, blockNumber, logIndex, transactionHash).

        One eth_getLogs a window for the three events, decoded here rather than by web3: a
        member name that is not valid UTF-8 (the contract stores any bytes) must not stop a
        replay. Its undecodable bytes become lone surrogates (surrogateescape), which no
        certificate string can hold, so such a member never matches a certificate's name
        (docs/certificate-v2.md, E3)."""
        key = (block, self.block(block)[0])  # the hash: a reorganized block is read anew
        if self._replayed is not None and self._replayed[0] == key:
            return self._replayed[1]
        topics = [["0x" + t.hex() for t in CONFIG_TOPICS.values()]]

        def fetch(start: int, end: int) -> list[Any]:
            return list(
                self.w3.eth.get_logs(
                    {
                        "address": self.address,
                        "topics": topics,
                        "fromBlock": start,
                        "toBlock": end,
                    }
                )
            )

        logs = [
            _config_event(log)
            for log in logs_in_windows(fetch, 0, block, self.rpc_url)
            if str(log["address"]).lower() == self.address.lower()
        ]
        logs.sort(key=lambda log: (log["blockNumber"], log["logIndex"]))
        self._replayed = (key, logs)
        return logs


CONFIG_TOPICS: dict[str, bytes] = {
    name: keccak(text=signature)
    for name, signature in (
        ("MemberSet", "MemberSet(address,uint8,bytes32,string,uint64)"),
        ("MemberRemoved", "MemberRemoved(address,uint64)"),
        ("PolicySet", "PolicySet(uint16,uint256,uint64)"),
    )
}
"""topic 0 of the configuration events (a unit test checks them against the ABI)."""


def _config_event(log: LogReceipt) -> dict[str, Any]:
    """A raw MemberSet / MemberRemoved / PolicySet log, decoded (see _config_logs)."""
    topics = [bytes(t) for t in log["topics"]]
    data = bytes(log["data"])
    try:
        name = next((n for n, t in CONFIG_TOPICS.items() if t == topics[0]), None)
        if name == "MemberSet":
            role, raw_name = abi_decode(["uint8", "bytes"], data)  # a string's ABI encoding
            args: dict[str, Any] = {
                "account": to_checksum_address(topics[1][12:]),
                "organization": topics[2],
                "configNonce": int.from_bytes(topics[3], "big"),
                "role": int(Role(role)),  # ValueError for a role the registry has not
                "name": bytes(raw_name).decode("utf-8", "surrogateescape"),
            }
        elif name == "MemberRemoved":
            args = {
                "account": to_checksum_address(topics[1][12:]),
                "configNonce": int.from_bytes(topics[2], "big"),
            }
        elif name == "PolicySet":
            threshold, endorsers = abi_decode(["uint16", "uint256"], data)
            args = {
                "threshold": int(threshold),
                "endorsers": int(endorsers),
                "configNonce": int.from_bytes(topics[1], "big"),
            }
        else:
            raise ValueError("not a configuration event")
    except (ValueError, IndexError, DecodingError) as exc:
        raise ChainError(
            f"the node returned a configuration log that cannot be read: {exc}"
        ) from exc
    return {
        "event": name,
        "args": args,
        "blockNumber": int(log["blockNumber"]),
        "logIndex": int(log["logIndex"]),
        "transactionHash": bytes(log["transactionHash"]),
    }


class ConsortiumWriter(ConsortiumReader):
    """A ConsortiumReader plus a local signing account (a NOTARY member to anchor; anyone
    to relay a configuration change)."""

    def __init__(
        self, w3: Web3, address: str, account: LocalAccount, rpc_url: str = "the RPC endpoint"
    ) -> None:
        super().__init__(w3, address, rpc_url)
        self.account = account

    def reader(self) -> ConsortiumReader:
        """The same registry through the same connection, without the key."""
        return ConsortiumReader(self.w3, self.address, self.rpc_url)

    def broadcast(self, raw: bytes) -> None:
        """Send signed transaction bytes (AlreadyKnownError when the node holds them)."""
        broadcast(self.w3, raw, self.rpc_url)

    def anchor(self, batch: Batch, signatures: Sequence[bytes]) -> AnchorReceipt:
        """Anchor `batch` with endorsements sorted by signer (eip712.sorted_signatures).
        AlreadyAnchoredError / MissingRoleError / TransactionFailedError (naming the
        registry's custom error) when the registry refuses; nothing is sent then."""
        signed = self.sign_anchor(batch, signatures)
        broadcast(self.w3, signed.raw, self.rpc_url)
        return self.anchor_receipt(batch.root, self.wait_for_receipt(signed.tx_hash))

    def sign_anchor(self, batch: Batch, signatures: Sequence[bytes]) -> SignedTx:
        """The signed anchor transaction, not yet sent (gas estimation surfaces refusals)."""
        data = self.contract.encode_abi(
            "anchor",
            args=[batch.root, batch.leaf_count, batch.manifest, batch.batch_time, list(signatures)],
        )
        return sign(
            self.w3, self.account, {"to": self.address, "data": data}, self.rpc_url, pending=True
        )

    def change_config(
        self,
        changes: Sequence[MemberChange],
        threshold: int,
        nonce: int,
        deadline: int,
        signatures: Sequence[bytes],
    ) -> TxReceipt:
        """Submit a configuration change approved by `signatures` (sorted by signer)."""
        data = self.contract.encode_abi(
            "changeConfig",
            args=[[c.as_tuple() for c in changes], threshold, nonce, deadline, list(signatures)],
        )
        return send(self.w3, self.account, {"to": self.address, "data": data}, self.rpc_url)


def deploy_consortium(
    w3: Web3,
    account: LocalAccount,
    genesis: Iterable[MemberChange],
    threshold: int,
    rpc_url: str = "the RPC endpoint",
) -> str:
    """Deploy the published ConsortiumRegistry build with `genesis` members and threshold
    `threshold`; return its checksummed address."""
    build = consortium_build()
    factory = w3.eth.contract(abi=build.abi, bytecode=build.bytecode)
    data = factory.constructor([c.as_tuple() for c in genesis], threshold).data_in_transaction
    receipt = send(w3, account, {"data": data}, rpc_url)
    address = receipt.get("contractAddress")
    if not address:
        raise TransactionFailedError("the deployment created no contract")
    return to_checksum_address(address)
