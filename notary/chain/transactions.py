"""Signing and sending transactions with web3.py: nonce, fees, gas, receipts.

The plumbing under RegistryWriter (notary.chain.registry), and what operator tools use for
transactions that are not registry calls (notary.ops.deploy funds the notary account and
deploys the registry). A node's answer that it already holds a transaction is decoded into
AlreadyKnownError (notary.chain.errors.send_errors).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final, cast

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.types import TxParams, TxReceipt, Wei

from notary.chain.errors import chain_errors, send_errors
from notary.errors import StuckTransactionError, TransactionFailedError

RECEIPT_TIMEOUT_SECONDS: Final = 120
STUCK_CHECK_SECONDS: Final = 1.0
"""While waiting for a receipt, how often to ask whether the transaction can still be mined;
it must look stuck at two checks in a row."""
RECEIPT_POLL_SECONDS: Final = 0.05
GAS_MARGIN: Final = 1.25
"""Multiplier on estimated gas; estimates are exact on anvil but not on every client."""


def fee_fields(w3: Web3) -> TxParams:
    """EIP-1559 fees when the chain has a base fee, else a legacy gas price."""
    latest = w3.eth.get_block("latest")
    base_fee = latest.get("baseFeePerGas")
    if base_fee is None:
        return {"gasPrice": w3.eth.gas_price}
    tip = w3.eth.max_priority_fee
    return {"maxFeePerGas": Wei(2 * int(base_fee) + tip), "maxPriorityFeePerGas": tip}


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction: its hash is known before it is sent."""

    raw: bytes
    tx_hash: bytes
    nonce: int


def sign(
    w3: Web3, account: LocalAccount, tx: TxParams, rpc_url: str, *, pending: bool = False
) -> SignedTx:
    """Complete `tx` (nonce, fees, gas) and sign it locally.

    Gas is estimated here, so a call the contract would revert fails now, with the decoded
    custom error, and nothing is signed or sent. `pending=True` estimates against the
    pending block: a call that reads block.timestamp (a consortium anchor's batch time
    must not be after it) is judged at the time it will be mined, not at the newest
    block's, which on a chain that mines on demand (the devnet) may be long past.
    """
    with chain_errors(rpc_url):
        nonce = w3.eth.get_transaction_count(account.address, "pending")
        full: TxParams = {
            **tx,
            "from": account.address,
            "nonce": nonce,
            "chainId": w3.eth.chain_id,
            **fee_fields(w3),
        }
        estimate = w3.eth.estimate_gas(full, "pending") if pending else w3.eth.estimate_gas(full)
        full["gas"] = int(estimate * GAS_MARGIN)
    signed = account.sign_transaction(cast(dict[str, Any], full))
    return SignedTx(bytes(signed.raw_transaction), bytes(signed.hash), nonce)


def broadcast(w3: Web3, raw: bytes, rpc_url: str) -> None:
    """Send signed bytes. Sending the same bytes twice is harmless (same hash): a node that
    still holds them answers AlreadyKnownError."""
    with send_errors(rpc_url):
        w3.eth.send_raw_transaction(raw)


def wait(w3: Web3, tx_hash: bytes, rpc_url: str) -> TxReceipt:
    """Wait for the receipt of `tx_hash`; TransactionFailedError if it reverted, or if none
    came within RECEIPT_TIMEOUT_SECONDS.

    StuckTransactionError as soon as waiting cannot help (checked every STUCK_CHECK_SECONDS,
    twice in a row): the node does not hold the transaction, or holds it behind a gap in the
    sender's nonces. Both happen when a node restarts without its newest blocks or its pool
    (a devnet killed -9) while a transaction is awaited: the web3 provider retries through
    the outage, and the wait would otherwise last the whole timeout for a transaction that
    can never be mined.
    """
    h = HexBytes(tx_hash)
    deadline = time.monotonic() + RECEIPT_TIMEOUT_SECONDS
    next_check = time.monotonic() + STUCK_CHECK_SECONDS
    strikes = 0
    with chain_errors(rpc_url):
        while True:
            try:
                receipt = w3.eth.get_transaction_receipt(h)
                break
            except TransactionNotFound:
                pass
            now = time.monotonic()
            if now >= deadline:
                raise TransactionFailedError(
                    f"no receipt for 0x{tx_hash.hex()} in {RECEIPT_TIMEOUT_SECONDS} s"
                )
            if now >= next_check:
                why = _stuck(w3, h)
                strikes = strikes + 1 if why else 0
                if strikes >= 2:
                    raise StuckTransactionError(f"transaction 0x{tx_hash.hex()}: {why}")
                next_check = now + STUCK_CHECK_SECONDS
            time.sleep(RECEIPT_POLL_SECONDS)
    if receipt["status"] != 1:
        raise TransactionFailedError(f"transaction 0x{tx_hash.hex()} reverted")
    return receipt


def _stuck(w3: Web3, tx_hash: HexBytes) -> str:
    """Why the awaited transaction can never be mined as it stands; '' if it still can."""
    try:
        tx = w3.eth.get_transaction(tx_hash)
    except TransactionNotFound:
        return "the node does not hold it (dropped, or the node restarted without it)"
    if tx.get("blockNumber") is not None:
        return ""  # mined since the receipt was asked for
    following = w3.eth.get_transaction_count(tx["from"], "pending")
    if tx["nonce"] > following:
        return (
            f"its nonce {tx['nonce']} waits behind a gap (the sender's next is {following}: "
            "an earlier transaction was lost)"
        )
    return ""


def send(w3: Web3, account: LocalAccount, tx: TxParams, rpc_url: str) -> TxReceipt:
    """Sign, send and wait for a successful receipt."""
    signed = sign(w3, account, tx, rpc_url)
    broadcast(w3, signed.raw, rpc_url)
    return wait(w3, signed.tx_hash, rpc_url)
