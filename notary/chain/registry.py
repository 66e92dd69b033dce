"""A web3.py (v8) client for EvidenceRegistry: reads for anyone, writes for a signer.

Reads (`RegistryReader`) need only an RPC URL and the registry address, and hold no key:
the verifier, the auditor, finality, reconciliation and the service's audit routes and
readiness use them. Writes (`RegistryWriter`, a reader plus a local account) sign with
eth-account, pick the nonce from the pending count, estimate gas (so custom errors surface
before anything is sent), send, and wait for the receipt.

Only notary.chain uses web3: everything above it talks to the chain through these two
classes (operator tools in notary.ops may also use notary.chain.transactions with a Web3 of
their own). Signing and sending is done by notary.chain.transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3 import exceptions as w3x
from web3.contract import Contract
from web3.types import TxReceipt

from notary.chain.artifact import registry_build
from notary.chain.errors import chain_errors
from notary.chain.transactions import SignedTx, broadcast, send, sign, wait
from notary.errors import ChainError, TransactionFailedError, ValidationError

NOTARY_ROLE: Final = keccak(text="NOTARY_ROLE")
ANCHORED_TOPIC: Final = keccak(
    text="Anchored(bytes32,uint256,address,uint256,uint256,bytes32,string)"
)
DEFAULT_ADMIN_ROLE: Final = bytes(32)
RPC_TIMEOUT_SECONDS: Final = 15


def connect(rpc_url: str, *, retries: bool = True) -> Web3:
    """A Web3 on `rpc_url`. `retries=False` fails fast (the verifier's choice)."""
    kwargs: dict[str, Any] = {"request_kwargs": {"timeout": RPC_TIMEOUT_SECONDS}}
    if not retries:
        kwargs["exception_retry_configuration"] = None
    return Web3(Web3.HTTPProvider(rpc_url, **kwargs))


def connect_reader(rpc_url: str, address: str, *, retries: bool = True) -> RegistryReader:
    """A RegistryReader of the registry at `address` through the node at `rpc_url`."""
    return RegistryReader(connect(rpc_url, retries=retries), address, rpc_url)


def connect_writer(rpc_url: str, address: str, account: LocalAccount) -> RegistryWriter:
    """A RegistryWriter of the registry at `address`, signing with `account`."""
    return RegistryWriter(connect(rpc_url), address, account, rpc_url)


@dataclass(frozen=True)
class OnChainAnchor:
    """The registry's record for one root (sequence 0 means not anchored)."""

    root: bytes
    sequence: int
    block_number: int
    timestamp: int
    leaf_count: int
    notary: str
    log_head: bytes
    manifest: str


@dataclass(frozen=True)
class BlockInfo:
    """What a verifier reads of one block: its hash, time and transaction hashes."""

    number: int
    hash: bytes
    timestamp: int
    transactions: tuple[bytes, ...]


@dataclass(frozen=True)
class AnchorReceipt:
    """What anchoring one root produced on chain."""

    anchor: OnChainAnchor
    tx_hash: bytes
    block_hash: bytes
    gas_used: int


class RegistryReader:
    """Read access to one deployed registry: holds no key, sends nothing."""

    def __init__(self, w3: Web3, address: str, rpc_url: str = "the RPC endpoint") -> None:
        try:
            self.address: ChecksumAddress = to_checksum_address(address)
        except ValueError as exc:
            raise ValidationError(f"not an address: {address!r}") from exc
        self.w3 = w3
        self.rpc_url = rpc_url
        self.contract: Contract = w3.eth.contract(address=self.address, abi=registry_build().abi)

    def chain_id(self) -> int:
        with chain_errors(self.rpc_url):
            return int(self.w3.eth.chain_id)

    def code_hash(self) -> bytes:
        """keccak256 of the runtime code at the registry address (of empty code if none)."""
        with chain_errors(self.rpc_url):
            return keccak(bytes(self.w3.eth.get_code(self.address)))

    def anchor_of(self, root: bytes) -> OnChainAnchor:
        with chain_errors(self.rpc_url):
            seq, number, ts, count, notary, head, manifest = self.contract.functions.anchorOf(
                root
            ).call()
        return OnChainAnchor(root, seq, number, ts, count, notary, bytes(head), manifest)

    def anchor_count(self) -> int:
        with chain_errors(self.rpc_url):
            return int(self.contract.functions.anchorCount().call())

    def root_at(self, sequence: int) -> bytes:
        with chain_errors(self.rpc_url):
            return bytes(self.contract.functions.rootAt(sequence).call())

    def log_head(self) -> bytes:
        with chain_errors(self.rpc_url):
            return bytes(self.contract.functions.logHead().call())

    def verify(self, root: bytes, proof: list[bytes], leaf: bytes) -> int:
        """The contract's own check: anchor time when the proof holds, else 0."""
        with chain_errors(self.rpc_url):
            return int(self.contract.functions.verify(root, proof, leaf).call())

    def has_role(self, role: bytes, account: str) -> bool:
        with chain_errors(self.rpc_url):
            return bool(self.contract.functions.hasRole(role, account).call())

    def block(self, number: int) -> tuple[bytes, int]:
        """(hash, timestamp) of block `number`."""
        with chain_errors(self.rpc_url):
            block = self.w3.eth.get_block(number)
        return bytes(block["hash"]), int(block["timestamp"])

    def block_info(self, number: int) -> BlockInfo | None:
        """Block `number` (hash, time, transaction hashes), or None when the node has none."""
        try:
            with chain_errors(self.rpc_url):
                block = self.w3.eth.get_block(number)
        except ChainError as exc:
            if isinstance(exc.__cause__, w3x.BlockNotFound):
                return None
            raise
        return BlockInfo(
            number=int(block["number"]),
            hash=bytes(block["hash"]),
            timestamp=int(block["timestamp"]),
            transactions=tuple(bytes(tx) for tx in block["transactions"]),  # type: ignore[arg-type]
        )

    def pending_time(self) -> int:
        """The timestamp the node gives the block it would mine next (its clock, which the
        registry judges batch times by); the newest block's when it has no pending block."""
        with chain_errors(self.rpc_url):
            try:
                return int(self.w3.eth.get_block("pending")["timestamp"])
            except (ValueError, KeyError, TypeError):  # a node without a pending block
                return int(self.w3.eth.get_block("latest")["timestamp"])

    def latest_block_number(self) -> int:
        """Number of the node's newest block (final or not)."""
        with chain_errors(self.rpc_url):
            return int(self.w3.eth.block_number)

    def is_syncing(self) -> bool:
        """Whether the node says it is catching up with the chain (eth_syncing)."""
        with chain_errors(self.rpc_url):
            return bool(self.w3.eth.syncing)

    def block_hash_at(self, number: int) -> bytes | None:
        """Hash of block `number`, or None when the chain has no such block (yet)."""
        info = self.block_info(number)
        return info.hash if info is not None else None

    def receipt_or_none(self, tx_hash: bytes) -> TxReceipt | None:
        """The receipt of `tx_hash`, or None while it is not mined (or unknown)."""
        try:
            with chain_errors(self.rpc_url):
                return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except ChainError as exc:
            if isinstance(exc.__cause__, w3x.TransactionNotFound):
                return None
            raise

    def receipt(self, tx_hash: bytes) -> TxReceipt:
        with chain_errors(self.rpc_url):
            return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))

    def wait_for_receipt(self, tx_hash: bytes) -> TxReceipt:
        """Wait for the receipt of `tx_hash`; TransactionFailedError if it reverted (or none
        came within RECEIPT_TIMEOUT_SECONDS)."""
        return wait(self.w3, tx_hash, self.rpc_url)

    def anchored_events(self, receipt: TxReceipt) -> list[OnChainAnchor]:
        """Anchored events this registry emitted in `receipt`."""
        found = []
        for log in receipt["logs"]:
            if log["address"] != self.address or not log["topics"]:
                continue
            if bytes(log["topics"][0]) != ANCHORED_TOPIC:  # e.g. RoleGranted at deployment
                continue
            with chain_errors(self.rpc_url):
                event = self.contract.events.Anchored().process_log(log)
            a = event["args"]
            found.append(
                OnChainAnchor(
                    root=bytes(a["root"]),
                    sequence=a["sequence"],
                    block_number=receipt["blockNumber"],
                    timestamp=a["timestamp"],
                    leaf_count=a["leafCount"],
                    notary=a["notary"],
                    log_head=bytes(a["logHead"]),
                    manifest=a["manifest"],
                )
            )
        return found

    def anchor_receipt(self, root: bytes, receipt: TxReceipt) -> AnchorReceipt:
        """The anchor of `root` that `receipt` recorded."""
        events = [e for e in self.anchored_events(receipt) if e.root == root]
        if len(events) != 1:
            raise TransactionFailedError("the transaction emitted no Anchored event for the root")
        return AnchorReceipt(
            anchor=events[0],
            tx_hash=bytes(receipt["transactionHash"]),
            block_hash=bytes(receipt["blockHash"]),
            gas_used=int(receipt["gasUsed"]),
        )

    def find_anchor(self, root: bytes) -> AnchorReceipt | None:
        """The anchor of `root` found through the registry's events; None if not anchored,
        or if the chain has no Anchored event for it. The registry names the block, so one
        block's logs are asked for, not the whole chain's (which nodes limit)."""
        record = self.anchor_of(root)
        if record.sequence == 0:
            return None
        if record.block_number > self.latest_block_number():
            return None  # state restored without its blocks (anvil killed -9): no event here
        with chain_errors(self.rpc_url):
            logs = self.contract.events.Anchored().get_logs(
                argument_filters={"root": root},
                from_block=record.block_number,
                to_block=record.block_number,
            )
        if not logs:
            return None
        return self.anchor_receipt(root, self.receipt(bytes(logs[0]["transactionHash"])))


class RegistryWriter(RegistryReader):
    """A RegistryReader plus a local signing account."""

    def __init__(
        self, w3: Web3, address: str, account: LocalAccount, rpc_url: str = "the RPC endpoint"
    ) -> None:
        super().__init__(w3, address, rpc_url)
        self.account = account

    def reader(self) -> RegistryReader:
        """The same registry through the same connection, without the key."""
        return RegistryReader(self.w3, self.address, self.rpc_url)

    def anchor(self, root: bytes, leaf_count: int, manifest: str = "") -> AnchorReceipt:
        """Anchor `root`; AlreadyAnchoredError / MissingRoleError when the registry refuses."""
        signed = self.sign_anchor(root, leaf_count, manifest)
        self.broadcast(signed.raw)
        return self.anchor_receipt(root, self.wait_for_receipt(signed.tx_hash))

    def sign_anchor(self, root: bytes, leaf_count: int, manifest: str = "") -> SignedTx:
        """The signed anchor transaction, not yet sent (the batcher stores it first)."""
        data = self.contract.encode_abi("anchor", args=[root, leaf_count, manifest])
        return sign(self.w3, self.account, {"to": self.address, "data": data}, self.rpc_url)

    def broadcast(self, raw: bytes) -> None:
        """Send signed transaction bytes (a stored transaction is sent again byte for byte).

        AlreadyKnownError when the node already holds that very transaction.
        """
        broadcast(self.w3, raw, self.rpc_url)

    def grant_role(self, role: bytes, account: str) -> TxReceipt:
        return self._transact("grantRole", role, account)

    def _transact(self, function: str, *args: object) -> TxReceipt:
        data = self.contract.encode_abi(function, args=list(args))
        return send(self.w3, self.account, {"to": self.address, "data": data}, self.rpc_url)


def deploy_registry(w3: Web3, account: LocalAccount, admin: str, rpc_url: str) -> TxReceipt:
    """Deploy the published build with `admin` as DEFAULT_ADMIN_ROLE holder."""
    build = registry_build()
    factory = w3.eth.contract(abi=build.abi, bytecode=build.bytecode)
    data = factory.constructor(to_checksum_address(admin)).data_in_transaction
    return send(w3, account, {"data": data}, rpc_url)
