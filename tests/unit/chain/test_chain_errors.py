"""The chain adapter's error translation: web3 and requests errors become notary errors."""

from __future__ import annotations

import pytest
import requests
from web3 import exceptions as w3x

from notary.chain.errors import chain_errors, send_errors
from notary.errors import AlreadyKnownError, ChainError, ChainUnavailableError, NotaryError


def _rpc_error(message: str) -> w3x.Web3RPCError:
    error = {"code": -32000, "message": message}
    return w3x.Web3RPCError(str(error), rpc_response={"jsonrpc": "2.0", "id": 1, "error": error})


@pytest.mark.parametrize("message", ["already known", "ALREADY KNOWN", "tx already known: 0xab"])
def test_a_transaction_the_node_holds_is_already_known(message: str) -> None:
    with pytest.raises(AlreadyKnownError) as raised, send_errors("http://node"):
        raise _rpc_error(message)
    assert isinstance(raised.value, ChainError) and isinstance(raised.value, NotaryError)
    assert isinstance(raised.value.__cause__, ChainError)
    assert isinstance(raised.value.__cause__.__cause__, w3x.Web3RPCError)


@pytest.mark.parametrize(
    "message", ["known transaction: 0xab", "nonce too low", "replacement transaction underpriced"]
)
def test_other_refusals_stay_plain_chain_errors(message: str) -> None:
    with pytest.raises(ChainError) as raised, send_errors("http://node"):
        raise _rpc_error(message)
    assert type(raised.value) is ChainError
    assert message in str(raised.value)


def test_an_unreachable_node_is_unavailable_not_known() -> None:
    with pytest.raises(ChainUnavailableError, match="http://node"), send_errors("http://node"):
        raise requests.ConnectionError("already known")  # the wording alone decides nothing


def test_only_sending_decodes_already_known() -> None:
    with pytest.raises(ChainError) as raised, chain_errors("http://node"):
        raise _rpc_error("already known")
    assert type(raised.value) is ChainError
