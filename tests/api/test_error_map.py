"""Every error the library can raise on a request path has an HTTP answer with a code.

An unmapped NotaryError surfaces as 500 `internal`, which tells a client nothing; this test
walks the whole exception tree, so a new error class without a mapping fails here.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from api import errors as api_errors
from notary import errors
from tests.api.conftest import serve_in_thread

NOT_ON_A_REQUEST_PATH = {
    errors.NotaryError,  # the root: never raised itself
    errors.DevnetError,  # `notary devnet` only
    errors.ServiceUnavailableError,  # raised by the client when the API does not answer
}


def _instance(cls: type[errors.NotaryError]) -> errors.NotaryError:
    if cls is errors.Sm3MismatchError:
        return cls(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32)
    if cls is errors.AlreadyAnchoredError:
        return cls(b"\x01" * 32)
    if cls is errors.MissingRoleError:
        return cls("0x" + "11" * 20, b"\x02" * 32)
    if cls is errors.RateLimitedError:
        return cls("slow down", 3)
    if cls is errors.MetadataError:
        return cls("metadata.sku", "why")
    if issubclass(cls, errors.DepositorSignatureError):
        return cls("items.3.signature", "why")
    if "code" in inspect.signature(cls.__init__).parameters:
        return cls("invalid_json", "why")  # type: ignore[call-arg]
    return cls("why")


def _classes() -> list[type[errors.NotaryError]]:
    import notary.core.jsontext  # noqa: F401  (JsonInputError lives there)

    seen: list[type[errors.NotaryError]] = []
    todo = [errors.NotaryError]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return [c for c in seen if c not in NOT_ON_A_REQUEST_PATH]


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    """A real uvicorn server whose one route raises the error class it is named."""
    app = FastAPI()
    api_errors.install(app)
    by_name = {cls.__name__: cls for cls in _classes()}

    @app.get("/raise/{name}")
    def raise_(name: str) -> None:
        raise _instance(by_name[name])

    url, server, thread = serve_in_thread(app)
    with httpx.Client(base_url=url) as http:
        yield http
    server.should_exit = True
    thread.join(timeout=30)


@pytest.mark.parametrize("cls", _classes(), ids=lambda c: c.__name__)
def test_every_error_has_an_answer(client: httpx.Client, cls: type[errors.NotaryError]) -> None:
    response = client.get(f"/raise/{cls.__name__}")
    body = response.json()["error"]
    assert response.status_code != 500, f"{cls.__name__} surfaces as 500"
    assert body["code"] != "internal"
    assert body["message"]


def test_specific_answers(client: httpx.Client) -> None:
    expected = {
        "AuthenticationError": (401, "unauthorized"),
        "ForbiddenError": (403, "forbidden"),
        "ConfigError": (503, "not_configured"),
        "IpfsError": (502, "ipfs_error"),
        "IpfsUnavailableError": (503, "ipfs_unavailable"),
        "MissingRoleError": (502, "chain_error"),
        "InsufficientStorageError": (507, "insufficient_storage"),
        "KeyExpiredError": (401, "key_expired"),
        "MetadataError": (422, "invalid_metadata"),
        "MalformedSignatureError": (422, "malformed_signature"),
        "SignatureRequiredError": (422, "signature_required"),
        "UnregisteredSignerError": (422, "signer_not_registered"),
        "DepositorKeyTakenError": (409, "depositor_key_taken"),
    }
    for name, (status, code) in expected.items():
        response = client.get(f"/raise/{name}")
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), name
    assert client.get("/raise/AuthenticationError").headers["WWW-Authenticate"] == "Bearer"
    assert client.get("/raise/MetadataError").json()["error"]["field"] == "metadata.sku"
    signed = client.get("/raise/UnregisteredSignerError").json()["error"]
    assert signed["field"] == "items.3.signature"
    assert "field" not in client.get("/raise/ValidationError").json()["error"]
