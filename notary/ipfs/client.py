"""The notary's IPFS client: a small interface and its Kubo-RPC adapter.

`IpfsStore` is what the notary needs (add, cat, pins, CAR export). `KuboRpc` implements it
over the Kubo RPC API (/api/v0) with `ipfshttpclient`, which is what Kubo, IPFS Cluster's
proxy, hosted pinning endpoints and the devnet's Helia node speak. `ipfshttpclient.connect()`
refuses every Kubo release since 0.8 through a version gate, so the client is constructed
directly. Every add names the profile and also passes its parameters explicitly.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO, Final, Protocol
from urllib.parse import urlsplit

import ipfshttpclient
from ipfshttpclient import exceptions as ipfsx

from notary.core.cid import CHUNK_SIZE, PROFILE
from notary.errors import IpfsError, IpfsUnavailableError, NotFoundError, ValidationError

READ_SIZE: Final = 4 * CHUNK_SIZE
"""Bytes per ranged `cat` request when streaming a file back."""
TIMEOUT_SECONDS: Final = 120.0


PROBE_SECONDS = 5.0
"""Longest the identity probe (readiness) waits for the node."""


class IpfsStore(Protocol):
    """What the notary asks of an IPFS node."""

    def add(
        self, stream: BinaryIO, name: str, *, pin: bool = True, only_hash: bool = False
    ) -> str: ...
    def cat(self, cid: str) -> Iterator[bytes]: ...
    def pin(self, cid: str) -> None: ...
    def unpin(self, cid: str) -> None: ...
    def pins(self) -> set[str]: ...
    def export_car(self, cid: str) -> Iterator[bytes]: ...
    def identity(self) -> str: ...


def multiaddr_of(url: str) -> str:
    """http(s)://host:port -> /ip4|ip6|dns/host/tcp/port/http(s), as ipfshttpclient wants."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"IPFS API must be an http(s) URL, not {url!r}")
    host = parts.hostname
    kind = "ip6" if ":" in host else "ip4" if host.replace(".", "").isdigit() else "dns"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"/{kind}/{host}/tcp/{port}/{parts.scheme}"


@contextmanager
def ipfs_errors(api: str) -> Iterator[None]:
    """Translate ipfshttpclient's errors (and silence its urllib3 FutureWarning)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The 'strict' parameter", FutureWarning)
        try:
            yield
        except (ipfsx.ConnectionError, ipfsx.TimeoutError) as exc:
            raise IpfsUnavailableError(
                f"IPFS node {api} unreachable: {type(exc).__name__}"
            ) from exc
        except ipfsx.ErrorResponse as exc:
            message = str(exc)
            if "not found" in message or "not pinned" in message:
                raise NotFoundError(message) from exc
            raise IpfsError(message) from exc
        except ipfsx.Error as exc:
            raise IpfsError(f"{type(exc).__name__}: {exc}") from exc


class KuboRpc:
    """IpfsStore over the Kubo RPC API."""

    def __init__(
        self, api: str, token: str | None = None, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        self.api = api
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with ipfs_errors(api):
            self._client = ipfshttpclient.Client(
                multiaddr_of(api), headers=headers, timeout=timeout
            )

    def add(self, stream: BinaryIO, name: str, *, pin: bool = True, only_hash: bool = False) -> str:
        """Import `stream` with the unixfs-v1-2025 profile; return its CID."""
        with ipfs_errors(self.api):
            result = self._client.add(
                stream,
                cid_version=1,
                raw_leaves=True,
                chunker=f"size-{CHUNK_SIZE}",
                pin=pin,
                only_hash=only_hash,
                opts={"profile": PROFILE},
            )
        return str(result["Hash"])

    def cat(self, cid: str) -> Iterator[bytes]:
        """The content of `cid`, in READ_SIZE pieces (each one ranged request)."""
        offset = 0
        while True:
            with ipfs_errors(self.api):
                piece = self._client.cat(cid, offset=offset, length=READ_SIZE)
            if piece:
                yield bytes(piece)
            if len(piece) < READ_SIZE:
                return
            offset += len(piece)

    def pin(self, cid: str) -> None:
        with ipfs_errors(self.api):
            self._client.pin.add(cid)

    def unpin(self, cid: str) -> None:
        with ipfs_errors(self.api):
            self._client.pin.rm(cid)

    def pins(self) -> set[str]:
        with ipfs_errors(self.api):
            return set(self._client.pin.ls(type="recursive")["Keys"])

    def export_car(self, cid: str) -> Iterator[bytes]:
        with ipfs_errors(self.api):
            for chunk in self._client.dag.export(cid, stream=True):
                yield bytes(chunk)

    def identity(self) -> str:
        """The node's peer id: the readiness probe, so it waits PROBE_SECONDS at most
        (a node that hangs must not stall /v1/ready or a metrics scrape)."""
        with ipfs_errors(self.api):
            return str(self._client.id(timeout=PROBE_SECONDS)["ID"])

    def close(self) -> None:
        with ipfs_errors(self.api):
            self._client.close()
