"""Signing and sending transactions with web3.py: nonce, fees, gas, receipts.

The plumbing under RegistryWriter (notary.chain.registry), and what operator tools use for
transactions that are not registry calls (notary.ops.deploy funds the notary account and
deploys the registry). A node's answer that it already holds a transaction is decoded into
AlreadyKnownError (notary.chain.errors.send_errors).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, cast

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.types import TxParams, TxReceipt, Wei

from notary.chain.errors import chain_errors, send_errors
from notary.errors import TransactionFailedError

RECEIPT_TIMEOUT_SECONDS: Final = 120
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
    """Wait for the receipt of `tx_hash`; TransactionFailedError if it reverted."""
    with chain_errors(rpc_url):
        receipt = w3.eth.wait_for_transaction_receipt(
            HexBytes(tx_hash), timeout=RECEIPT_TIMEOUT_SECONDS, poll_latency=0.05
        )
    if receipt["status"] != 1:
        raise TransactionFailedError(f"transaction 0x{tx_hash.hex()} reverted")
    return receipt


def send(w3: Web3, account: LocalAccount, tx: TxParams, rpc_url: str) -> TxReceipt:
    """Sign, send and wait for a successful receipt."""
    signed = sign(w3, account, tx, rpc_url)
    broadcast(w3, signed.raw, rpc_url)
    return wait(w3, signed.tx_hash, rpc_url)
