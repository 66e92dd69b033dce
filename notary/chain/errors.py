"""Translate web3/requests errors into the notary's exception tree, at the adapter edge.

chain_errors wraps every call to the node; send_errors wraps eth_sendRawTransaction, where
one more answer is decoded: a node that already holds the transaction (AlreadyKnownError).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Final

import requests
from eth_abi.abi import decode as abi_decode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.crypto import keccak
from web3 import exceptions as w3x

from notary.chain.artifact import consortium_build, registry_build
from notary.errors import (
    AlreadyAnchoredError,
    AlreadyKnownError,
    ChainError,
    ChainUnavailableError,
    MissingRoleError,
    TransactionFailedError,
)

CONSORTIUM_NOTARY_ROLE: Final = keccak(text="NOTARY_ROLE")
"""The role MissingRoleError names when ConsortiumRegistry refuses a caller that is not a
NOTARY member (the same id as EvidenceRegistry's NOTARY_ROLE, so callers handle both alike)."""


@cache
def _custom_errors() -> dict[bytes, tuple[str, list[str]]]:
    """4-byte selector -> (error name, argument types) for every error in the registry ABIs
    (v1 and consortium)."""
    table: dict[bytes, tuple[str, list[str]]] = {}
    for item in [*registry_build().abi, *consortium_build().abi]:
        if item["type"] == "error":
            types = [arg["type"] for arg in item["inputs"]]
            selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            table[selector] = (item["name"], types)
    return table


def decode_revert(data: bytes) -> ChainError:
    """Turn revert data of the registry into the matching domain error."""
    entry = _custom_errors().get(data[:4])
    if entry is None:
        return TransactionFailedError(f"transaction reverted (data 0x{data.hex()})")
    name, types = entry
    args = abi_decode(types, data[4:])
    if name in ("EvidenceRegistry__AlreadyAnchored", "ConsortiumRegistry__AlreadyAnchored"):
        return AlreadyAnchoredError(args[0])
    if name == "AccessControlUnauthorizedAccount":
        return MissingRoleError(args[0], args[1])
    if name == "ConsortiumRegistry__NotNotary":
        return MissingRoleError(args[0], CONSORTIUM_NOTARY_ROLE)
    shown = ", ".join(f"0x{a.hex()}" if isinstance(a, bytes) else str(a) for a in args)
    return TransactionFailedError(f"registry rejected the call: {name}({shown})")


def _revert_bytes(data: object) -> bytes | None:
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    return None


@contextmanager
def chain_errors(rpc_url: str = "the RPC endpoint") -> Iterator[None]:
    """Run web3 calls, re-raising their failures as ChainError subclasses."""
    try:
        yield
    except (requests.ConnectionError, requests.Timeout, w3x.ProviderConnectionError) as exc:
        raise ChainUnavailableError(f"cannot reach {rpc_url}: {type(exc).__name__}") from exc
    except w3x.ContractCustomError as exc:
        data = _revert_bytes(exc.data)
        raise (decode_revert(data) if data else TransactionFailedError(str(exc))) from exc
    except w3x.ContractLogicError as exc:
        raise TransactionFailedError(f"transaction reverted: {exc.message}") from exc
    except w3x.TimeExhausted as exc:
        raise TransactionFailedError(f"no receipt in time: {exc}") from exc
    except (w3x.Web3Exception, requests.RequestException) as exc:
        raise ChainError(f"{type(exc).__name__}: {exc}") from exc


ALREADY_KNOWN: Final = "already known"
"""How geth and anvil refuse a transaction they already hold (matched case-insensitively).

Other nodes' wordings ("known transaction", "nonce too low") are deliberately not decoded:
they stay plain ChainErrors, and the batcher signs such a batch anew."""


@contextmanager
def send_errors(rpc_url: str = "the RPC endpoint") -> Iterator[None]:
    """chain_errors for sending a signed transaction: AlreadyKnownError when the node already
    holds it; an unreachable node stays ChainUnavailableError (the transaction may be in
    flight or not)."""
    try:
        with chain_errors(rpc_url):
            yield
    except ChainUnavailableError:
        raise
    except ChainError as exc:
        if ALREADY_KNOWN in str(exc).lower():
            raise AlreadyKnownError(str(exc)) from exc
        raise
