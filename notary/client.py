"""Python client for the notary API, for enterprises depositing from scripts.

    from notary.client import NotaryClient
    with NotaryClient("http://127.0.0.1:8000", api_key) as notary:
        evidence = notary.deposit_file("designs/bear-dress.png", title="Bear dress")
        results = notary.deposit_folder("designs/", hash_only=True)
        notary.save_certificate(evidence["id"], "bear-dress.png.cert.json")

Retries are safe: every deposit carries an Idempotency-Key that stays the same across its
retries, and the service returns the existing evidence for content already deposited.
Transport errors, 429 and 5xx are retried with exponential backoff (or after the server's
Retry-After, when it gives one); 4xx are not.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import httpx

from notary import errors
from notary.core.hashing import hash_stream
from notary.core.leaf import MetadataValue

RETRIES: Final = 5
BACKOFF_SECONDS: Final = 0.5
BULK_SIZE: Final = 1000
"""Hashes per bulk request when depositing a folder with hash_only."""

_ERRORS: Final[dict[str, type[errors.NotaryError]]] = {
    "payload_too_large": errors.PayloadTooLargeError,
    "invalid_certificate": errors.CertificateFormatError,
    "unsupported_certificate_version": errors.UnsupportedVersionError,
    "invalid_input": errors.ValidationError,
    "invalid_request": errors.ValidationError,
    "unauthorized": errors.PermissionDeniedError,
    "forbidden": errors.ForbiddenError,
    "not_found": errors.NotFoundError,
    "conflict": errors.ConflictError,
}

Progress = Callable[[int], None]


def _raise_for(response: httpx.Response) -> None:
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "http_error", f"HTTP {response.status_code}"
    raise _ERRORS.get(code, errors.NotaryError)(f"{message} ({code})")


def files_in(folder: Path) -> list[Path]:
    """Regular files under `folder`, sorted, skipping hidden ones and certificates."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and not p.name.endswith(".cert.json")
    )


MAX_RETRY_AFTER_SECONDS = 60.0
"""Longest the client sleeps on a server's Retry-After before trying again."""


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(
            max(float(response.headers.get("Retry-After", "")), 0.0), MAX_RETRY_AFTER_SECONDS
        )
    except ValueError:
        return 0.0


class NotaryClient:
    """A thin, retrying client of /v1."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 120.0,
        retries: int = RETRIES,
        backoff: float = BACKOFF_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"Authorization": f"Bearer {api_key}"},
            transport=transport,
        )
        self.retries = retries
        self.backoff = backoff

    def __enter__(self) -> NotaryClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(
        self,
        method: str,
        url: str,
        *,
        json_body: object = None,
        params: dict[str, float] | None = None,
        headers: dict[str, str] | None = None,
        files: Callable[[ExitStack], dict[str, Any]] | None = None,
    ) -> httpx.Response:
        """Send with retries; `files(stack)` reopens upload content for each attempt."""
        for attempt in range(self.retries + 1):
            try:
                with ExitStack() as stack:
                    response = self._http.request(
                        method,
                        url,
                        json=json_body,
                        params=params,
                        headers=headers,
                        files=files(stack) if files is not None else None,
                    )
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise errors.ServiceUnavailableError(f"notary API unreachable: {exc}") from exc
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in (429, 502, 503, 504) or attempt == self.retries:
                    _raise_for(response)
                if wait := _retry_after(response):
                    time.sleep(wait)  # the server said how long (a rate limit)
                    continue
            time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    # -- deposits ----------------------------------------------------------------------

    def deposit_hash(
        self, sha256: str, *, sm3: str | None = None, wait: float = 0, **metadata: MetadataValue
    ) -> dict[str, Any]:
        body = {"sha256": sha256, "metadata": metadata, **({"sm3": sm3} if sm3 else {})}
        key = str(uuid.uuid4())
        r = self._send(
            "POST",
            "/v1/evidence/hash",
            json_body=body,
            params={"wait": wait},
            headers={"Idempotency-Key": key},
        )
        result: dict[str, Any] = r.json()
        return result

    def deposit_hashes(self, items: list[dict[str, Any]], *, wait: float = 0) -> dict[str, Any]:
        """Up to 10,000 {sha256, sm3?, metadata?} in one all-or-nothing request."""
        r = self._send(
            "POST", "/v1/evidence/hashes", json_body={"items": items}, params={"wait": wait}
        )
        result: dict[str, Any] = r.json()
        return result

    def deposit_file(
        self, path: str | Path, *, wait: float = 0, **metadata: MetadataValue
    ) -> dict[str, Any]:
        """Upload a file, streamed from disk; its name and size come from the file."""
        path = Path(path)
        key = str(uuid.uuid4())
        declared = json.dumps(metadata, ensure_ascii=False)

        def files(stack: ExitStack) -> dict[str, Any]:
            handle = stack.enter_context(path.open("rb"))
            return {
                "file": (path.name, handle, "application/octet-stream"),
                "metadata": (None, declared),
            }

        r = self._send(
            "POST",
            "/v1/evidence",
            files=files,
            params={"wait": wait},
            headers={"Idempotency-Key": key},
        )
        result: dict[str, Any] = r.json()
        return result

    def deposit_folder(
        self, folder: str | Path, *, hash_only: bool = False, progress: Progress | None = None
    ) -> list[dict[str, Any]]:
        """Deposit every file under `folder` (see deposit_paths)."""
        return self.deposit_paths(files_in(Path(folder)), hash_only=hash_only, progress=progress)

    def deposit_paths(
        self, paths: list[Path], *, hash_only: bool = False, progress: Progress | None = None
    ) -> list[dict[str, Any]]:
        """Deposit files; returns their evidence, in the same order.

        hash_only: hash locally (SHA-256 + SM3) and send bulk requests of BULK_SIZE, so the
        files never leave the machine. Otherwise each file is uploaded.
        """
        results: list[dict[str, Any]] = []
        if not hash_only:
            for path in paths:
                results.append(self.deposit_file(path))
                if progress:
                    progress(1)
            return results
        for chunk in _chunks(paths, BULK_SIZE):
            items = []
            for path in chunk:
                with path.open("rb") as fh:
                    digest = hash_stream(fh)
                items.append(
                    {
                        "sha256": digest.sha256.hex(),
                        "sm3": digest.sm3.hex(),
                        "metadata": {"name": path.name, "size": digest.size},
                    }
                )
            results.extend(self.deposit_hashes(items)["items"])
            if progress:
                progress(len(chunk))
        return results

    # -- reading -----------------------------------------------------------------------

    def get(self, evidence_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._send("GET", f"/v1/evidence/{evidence_id}").json()
        return result

    def certificate(self, evidence_id: str) -> bytes:
        return self._send("GET", f"/v1/evidence/{evidence_id}/certificate").content

    def wait_anchored(self, evidence_ids: list[str], timeout: float = 120.0) -> None:
        """Poll until every id is anchored; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        pending = list(evidence_ids)
        while pending:
            pending = [i for i in pending if self.get(i)["status"] != "anchored"]
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} deposits not anchored in {timeout:.0f}s")
            if pending:
                time.sleep(0.5)

    def download(self, evidence_id: str, what: str, target: str | Path) -> Path:
        """Save the deposited `file` or the court `bundle` (zip) of evidence_id to `target`."""
        if what not in ("file", "bundle"):
            raise errors.ValidationError("download `file` or `bundle`")
        target = Path(target)
        with self._http.stream("GET", f"/v1/evidence/{evidence_id}/{what}") as r:
            if r.status_code >= 400:
                r.read()
                _raise_for(r)
            with target.open("wb") as out:
                for chunk in r.iter_bytes():
                    out.write(chunk)
        return target

    def save_certificate(self, evidence_id: str, target: str | Path) -> Path:
        target = Path(target)
        target.write_bytes(self.certificate(evidence_id))
        return target


def _chunks(items: list[Path], size: int) -> Iterator[list[Path]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
