"""Python client for the notary API, for enterprises depositing from scripts.

    from notary.client import NotaryClient
    with NotaryClient("http://127.0.0.1:8000", api_key) as notary:
        evidence = notary.deposit_file("designs/bear-dress.png", title="Bear dress")
        results = notary.deposit_folder("designs/", hash_only=True)
        notary.save_certificate(evidence["id"], "bear-dress.png.cert.json")

A webhook receiver checks each message with `verify_webhook(secret, headers, body)`
(README, Webhooks).

`deposit_folder` deposits what it can: files that cannot be deposited (empty, a link leading
out of the folder, a name that is not UTF-8 ...) are skipped, logged as warnings and listed
in the result's `skipped`. An empty file is refused everywhere (the API says "the file is
empty"): every empty file has the same hashes, so anchoring one proves nothing.

Retries are safe: every deposit carries an Idempotency-Key that stays the same across its
retries, and the service returns the existing evidence for content already deposited.
Transport errors, 429 and 5xx are retried with exponential backoff (or after the server's
Retry-After, when it gives one); 4xx are not.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import mimetypes
import os
import re
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, Final
from urllib.parse import unquote

import httpx

from notary import errors
from notary.chain import eip712
from notary.core.hashing import ContentHasher, hash_stream
from notary.core.leaf import MetadataValue, metadata_digest, sm3_leaf_value, validate_metadata
from notary.deposit.content import DEFAULT_MEDIA_TYPE, FileContent, file_metadata
from notary.files import write_atomic

log = logging.getLogger(__name__)

RETRIES: Final = 5
BACKOFF_SECONDS: Final = 0.5
BULK_SIZE: Final = 1000
"""Hashes per bulk request when depositing a folder with hash_only."""
CERTIFICATE_SUFFIX: Final = ".cert.json"
PATH_KEY: Final = "path"
"""Metadata key for a file's path under the folder deposited ("/"-separated), sent to
servers whose OpenAPI document accepts it (older ones refuse unknown keys)."""
EMPTY_FILE: Final = "the file is empty"
"""The API's words for an empty upload, used for every refusal of empty content."""
EMPTY_HASHES: Final = frozenset(
    {
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # SHA-256("")
        "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b",  # SM3("")
    }
)
"""Hashes of zero bytes: the same for every empty file, so anchoring them proves nothing."""

_ERRORS: Final[dict[str, type[errors.NotaryError]]] = {
    "payload_too_large": errors.PayloadTooLargeError,
    "invalid_certificate": errors.CertificateFormatError,
    "unsupported_certificate_version": errors.UnsupportedVersionError,
    "invalid_input": errors.ValidationError,
    "invalid_request": errors.ValidationError,
    "unauthorized": errors.AuthenticationError,
    "forbidden": errors.ForbiddenError,
    "not_found": errors.NotFoundError,
    "conflict": errors.ConflictError,
    "malformed_signature": errors.ValidationError,
    "signature_required": errors.ValidationError,
    "signer_not_registered": errors.ValidationError,
    "depositor_key_taken": errors.DepositorKeyTakenError,
}

Progress = Callable[[int], None]


def served_name(response: httpx.Response, fallback: str) -> str:
    """The file name of a download (RFC 6266: `filename*=UTF-8''...` first, else
    `filename=`), reduced to a bare name: no folder, nothing hidden; `fallback` if none."""
    header = response.headers.get("content-disposition", "")
    encoded = re.search(r"filename\*=UTF-8''([^;\s]+)", header, re.IGNORECASE)
    plain = re.search(r'filename="([^"]*)"', header)
    name = unquote(encoded.group(1)) if encoded else plain.group(1) if plain else ""
    name = PurePosixPath(name.replace("\\", "/")).name.lstrip(".")
    return name or fallback


def _raise_for(response: httpx.Response) -> None:
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "http_error", f"HTTP {response.status_code}"
    raise _ERRORS.get(code, errors.NotaryError)(f"{message} ({code})")


def display(path: Path) -> str:
    """`path` printable as UTF-8 (bytes of a non-UTF-8 name shown as \\xNN)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Entry:
    """A file to deposit, with its path under the folder given ("/"-separated), or None
    for a file named directly."""

    path: Path
    relative: str | None = None

    @property
    def name(self) -> str:
        return os.fsdecode(self.path.name)

    @property
    def certificate(self) -> PurePosixPath:
        """Its certificate under --out: the folder's tree mirrored (a/x.txt.cert.json)."""
        return PurePosixPath((self.relative or self.name) + CERTIFICATE_SUFFIX)


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


@dataclass
class Plan:
    """What to deposit, and what was skipped and why."""

    entries: list[Entry] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


class FolderResults(list[dict[str, Any]]):
    """The evidence of each file deposited (in the order of `entries`), and the skipped."""

    def __init__(
        self, results: list[dict[str, Any]], entries: list[Entry], skipped: list[Skipped]
    ) -> None:
        super().__init__(results)
        self.entries = entries
        self.skipped = skipped


def _problem(path: Path, relative: str | None, root: Path | None) -> str | None:
    """Why `path` cannot be deposited, or None. `root`: the folder it was found in, which a
    link must not lead out of (a file named directly may be a link anywhere)."""
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return "a broken link"
        if root is not None and not target.is_relative_to(root):
            return f"a link leading out of the folder (to {display(target)})"
    if not path.is_file():
        return "not a regular file"
    name = os.fsdecode(path.name)
    try:
        (relative or name).encode("utf-8")
    except UnicodeEncodeError:
        return "its name is not valid UTF-8 (rename it)"
    try:
        validate_metadata({"name": name, **({PATH_KEY: relative} if relative else {})})
        if path.stat().st_size == 0:
            return EMPTY_FILE
        path.open("rb").close()
    except errors.ValidationError as exc:
        return f"its name cannot be recorded: {exc}"
    except OSError as exc:
        return f"cannot read it: {exc.strerror}"
    return None


def _walk(folder: Path, plan: Plan) -> None:
    root = folder.resolve()

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else folder
        plan.skipped.append(Skipped(where, f"cannot read the folder: {exc.strerror}"))

    for top, dirs, names in os.walk(folder, onerror=unreadable):  # never follows links
        here = Path(top)
        for name in sorted(d for d in dirs if (here / d).is_symlink()):
            link = here / name
            try:
                inside = link.resolve().is_relative_to(root)
            except (OSError, RuntimeError):  # a loop of links
                inside = False
            if not inside:  # a link inside the folder: its files are walked where they are
                plan.skipped.append(Skipped(link, "a link leading out of the folder"))
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (here / d).is_symlink())
        for name in sorted(names):
            if name.startswith(".") or name.endswith(CERTIFICATE_SUFFIX):
                continue  # hidden files, and certificates written by an earlier run
            path = here / name
            relative = path.relative_to(folder).as_posix()
            problem = _problem(path, relative, root)
            if problem is None:
                plan.entries.append(Entry(path, relative))
            else:
                plan.skipped.append(Skipped(path, problem))


def plan(paths: Sequence[Path]) -> Plan:
    """What depositing `paths` (files and folders) deposits.

    Files found in a folder that cannot be deposited are skipped (`Plan.skipped`); a file
    named directly that cannot be, or a path that does not exist, is a ValidationError.
    """
    result = Plan()
    for path in paths:
        if path.is_dir():
            _walk(path, result)
        elif path.exists() or path.is_symlink():
            if problem := _problem(path, None, None):
                raise errors.ValidationError(f"{display(path)}: {problem}")
            result.entries.append(Entry(path))
        else:
            raise errors.ValidationError(f"cannot read {display(path)}: no such file or folder")
    unique: dict[tuple[Path, str | None], Entry] = {}
    for entry in result.entries:  # the same file named twice is deposited once
        unique.setdefault((entry.path.resolve(), entry.relative), entry)
    result.entries = list(unique.values())
    return result


def files_in(folder: Path) -> list[Path]:
    """Files under `folder` that can be deposited, sorted (see `plan`)."""
    return [entry.path for entry in plan([folder]).entries]


def _fold(text: str) -> str:
    """Caseless form (Unicode canonical caseless match): names equal on Windows and macOS."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", text).casefold())


CASE_CLASH: Final = " (names that differ only in case are one file on Windows and macOS)"


def certificate_targets(entries: Sequence[Entry], out_dir: Path) -> list[Path]:
    """Where each entry's certificate goes: `out_dir` / `Entry.certificate`.

    ValidationError, before anything is sent, when two certificates would be one file on
    some disk: the same path, paths that differ only in case or Unicode normalization (one
    file on Windows and macOS), or a certificate where another needs a folder.
    """
    files: dict[str, Entry] = {}
    folders: dict[str, Entry] = {}
    targets = []
    for entry in entries:
        relative = entry.certificate
        if any(part in ("", ".", "..") for part in relative.parts) or relative.is_absolute():
            raise errors.ValidationError(f"{display(entry.path)}: no safe certificate name")
        key = _fold(str(relative))
        parents = [_fold(str(p)) for p in relative.parents if str(p) != "."]
        other = (
            files.get(key)
            or folders.get(key)
            or next((files[p] for p in parents if p in files), None)
        )
        if other is not None:
            why = "" if key in files and other.certificate == relative else CASE_CLASH
            raise errors.ValidationError(
                f"{display(other.path)} and {display(entry.path)} would both need "
                f"{display(out_dir / str(relative))}{why}: rename one"
            )
        files[key] = entry
        folders.update((p, entry) for p in parents)
        targets.append(out_dir / str(relative))
    return targets


def _refuse_empty_hashes(*hexes: str | None) -> None:
    for value in hexes:
        if value is not None and value.lower().removeprefix("0x") in EMPTY_HASHES:
            raise errors.ValidationError(f"{EMPTY_FILE} ({value} is the hash of zero bytes)")


def _write_atomic(target: Path, data: bytes) -> None:
    """Write `data` to `target` (parents created) so that no reader sees half a file."""
    write_atomic(target, data, shown=display(target))


MAX_RETRY_AFTER_SECONDS = 60.0
"""Longest the client sleeps on a server's Retry-After before trying again."""


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(
            max(float(response.headers.get("Retry-After", "")), 0.0), MAX_RETRY_AFTER_SECONDS
        )
    except ValueError:
        return 0.0


FINGERPRINTS_KEY: Final = "fingerprints"
IMAGE_SUFFIXES: Final = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif"})
"""Files whose perceptual fingerprints a hash-only deposit computes locally."""
MAX_LOCAL_FINGERPRINT_BYTES: Final = 64 * 1024 * 1024
"""Larger images are not fingerprinted locally (the server's own limit for uploads)."""


def local_fingerprints(path: Path, size: int) -> list[dict[str, str]]:
    """The perceptual fingerprints of an image file, computed here so that a hash-only
    deposit can be watched for copies while the file never leaves the studio; empty for
    other files, or when the monitor's packages (Pillow, pdqhash) are not installed."""
    if path.suffix.lower() not in IMAGE_SUFFIXES or size > MAX_LOCAL_FINGERPRINT_BYTES:
        return []
    try:
        from notary.monitor.fingerprint import (
            MIN_QUALITY,
            PDQ_KINDS,
            ImageStatus,
            fingerprint_design,
        )
    except ImportError:  # the base install: hashes only
        return []
    try:  # PDQ kinds only: a spectrum match counts once a sketch confirms it, and a hash
        # deposit sends no sketch (it is a picture of the design: the file stays here)
        result = fingerprint_design(path.read_bytes(), PDQ_KINDS)
    except OSError:
        return []
    if result.status is not ImageStatus.OK:
        return []
    # the server cannot check a given fingerprint's quality: send only usable ones
    return [
        {"kind": f.kind, "hex": f.bits.hex()}
        for f in result.fingerprints
        if f.quality >= MIN_QUALITY
    ]


_MEDIA_TYPES: Final = mimetypes.MimeTypes()
"""Python's own table only (not the machine's /etc/mime.types): the same name gives the same
media type, so the same leaf, on every machine."""


def media_type_of(path: Path) -> str:
    """The media type an upload declares, from its name (image/png for a .png, image/jpeg
    for a .JPG); application/octet-stream for an unknown or compressed one (a .tar.gz is
    not a tar file)."""
    guessed, encoding = _MEDIA_TYPES.guess_type(path.name, strict=False)
    return guessed if guessed is not None and encoding is None else DEFAULT_MEDIA_TYPE


def _multipart(
    path: Path, metadata: Mapping[str, MetadataValue], signature: str | None = None
) -> Callable[[ExitStack], dict[str, Any]]:
    """The multipart fields of an upload (the file, its declared metadata and its depositor
    signature), opened anew for each attempt: `_send` calls it with the attempt's
    ExitStack, which closes the file."""
    declared = json.dumps(metadata, ensure_ascii=False)

    def files(stack: ExitStack) -> dict[str, Any]:
        handle = stack.enter_context(path.open("rb"))
        fields: dict[str, Any] = {
            "file": (path.name, handle, media_type_of(path)),
            "metadata": (None, declared),
        }
        if signature is not None:
            fields["signature"] = (None, signature)
        return fields

    return files


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
        signer: eip712.Signer | None = None,
    ) -> None:
        """`signer`: a depositor key (notary.ops.keys.load_depositor_key): every deposit is
        then signed with it (EIP-712, docs/certificate-v2.md), and the certificate names it."""
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"Authorization": f"Bearer {api_key}"},
            transport=transport,
        )
        self.retries = retries
        self.backoff = backoff
        self._accepts: dict[str, bool] = {}
        self.signer = signer
        self._signing: dict[str, Any] | None = None

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
        _refuse_empty_hashes(sha256, sm3)
        body = {"sha256": sha256, "metadata": metadata, **({"sm3": sm3} if sm3 else {})}
        if self.signer is not None:
            body["signature"] = self.sign_deposit(sha256, sm3, metadata)
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
        for item in items:
            _refuse_empty_hashes(item.get("sha256"), item.get("sm3"))
        if self.signer is not None:
            items = [
                {
                    **item,
                    "signature": self.sign_deposit(
                        item["sha256"], item.get("sm3"), item.get("metadata") or {}
                    ),
                }
                for item in items
            ]
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
        if problem := _problem(path, None, None):
            raise errors.ValidationError(f"{display(path)}: {problem}")
        return self._upload(path, metadata, wait)

    def _upload(
        self, path: Path, metadata: dict[str, MetadataValue], wait: float = 0
    ) -> dict[str, Any]:
        key = str(uuid.uuid4())
        signature = self._sign_file(path, metadata) if self.signer is not None else None
        r = self._send(
            "POST",
            "/v1/evidence",
            files=_multipart(path, metadata, signature),
            params={"wait": wait},
            headers={"Idempotency-Key": key},
        )
        result: dict[str, Any] = r.json()
        return result

    # -- depositor signatures ----------------------------------------------------------

    def signing_info(self) -> dict[str, Any]:
        """GET /v1/depositor-keys: the depositor identity, chain id and registry a deposit
        signature covers, the keys and the requirement (cached for this client)."""
        if self._signing is None:
            self._signing = self._send("GET", "/v1/depositor-keys").json()
        assert self._signing is not None
        return self._signing

    def sign_deposit(
        self, sha256: str, sm3: str | None, metadata: Mapping[str, MetadataValue]
    ) -> str:
        """The signer's EIP-712 Deposit signature of a hash deposit, 0x-hex."""
        if self.signer is None:
            raise errors.ConfigError("no depositor key: give the client a signer")
        info = self.signing_info()
        claim = eip712.DepositClaim(
            bytes.fromhex(sha256.removeprefix("0x")),
            sm3_leaf_value(bytes.fromhex(sm3.removeprefix("0x")) if sm3 else None),
            metadata_digest(metadata),
            str(info["depositor"]),
        )
        signed = eip712.sign_deposit(
            self.signer, int(info["chain_id"]), str(info["registry"]), claim
        )
        return "0x" + signed.hex()

    def _sign_file(self, path: Path, declared: Mapping[str, MetadataValue]) -> str:
        """The signature of an upload: over the metadata the notary will record for it (the
        file's name, media type, size and CID added: notary.deposit.content)."""
        hasher = ContentHasher()
        try:
            with path.open("rb") as fh:
                while chunk := fh.read(1024 * 1024):
                    hasher.update(chunk)
        except OSError as exc:
            raise errors.ValidationError(f"cannot read {display(path)}: {exc.strerror}") from exc
        hashes = hasher.result()
        final = file_metadata(FileContent(hashes, path.name, media_type_of(path)), dict(declared))
        digest = hashes.digest
        return self.sign_deposit(digest.sha256.hex(), digest.sm3.hex(), final)

    def register_depositor_key(self, key: eip712.Signer) -> dict[str, Any]:
        """Register `key` as a depositor key of the caller's organization (with its
        consent, signed here); the key's record (state active, or pending)."""
        info = self.signing_info()
        typed = eip712.depositor_key_typed_data(
            int(info["chain_id"]), str(info["registry"]), key.address, str(info["depositor"])
        )
        proof = "0x" + eip712.sign(key, typed).hex()
        self._signing = None
        result: dict[str, Any] = self._send(
            "POST", "/v1/depositor-keys", json_body={"address": key.address, "proof": proof}
        ).json()
        return result

    def remove_depositor_key(self, address: str) -> dict[str, Any]:
        self._signing = None
        result: dict[str, Any] = self._send("DELETE", f"/v1/depositor-keys/{address}").json()
        return result

    def require_signatures(self, required: bool) -> dict[str, Any]:
        """Whether every deposit of the organization must be signed."""
        self._signing = None
        result: dict[str, Any] = self._send(
            "PUT", "/v1/depositor-signatures", json_body={"require_signature": required}
        ).json()
        return result

    # -- early warning -----------------------------------------------------------------

    def capture(self, path: str | Path, **metadata: MetadataValue) -> dict[str, Any]:
        """Submit a suspect image (`source_url` required; `shop`, `price`, `captured_at`)."""
        files = _multipart(Path(path), metadata)
        result: dict[str, Any] = self._send("POST", "/v1/monitor/captures", files=files).json()
        return result

    def alerts(
        self, status: str | None = None, limit: int = 50, *, every_page: bool = False
    ) -> list[dict[str, Any]]:
        """The organization's alerts, newest first: one page of up to `limit` (at most 500),
        or with `every_page` all of them, `limit` a request."""
        params: dict[str, Any] = {"limit": limit, **({"status": status} if status else {})}
        items: list[dict[str, Any]] = []
        while True:
            r = self._http.get("/v1/alerts", params=params)
            if r.status_code >= 400:
                _raise_for(r)
            page = r.json()
            items.extend(page["items"])
            if not every_page or not page.get("next_cursor"):
                return items
            params["cursor"] = page["next_cursor"]

    def alert_action(self, alert_id: str, action: str) -> dict[str, Any]:
        """`acknowledge` or `dismiss` an alert; the alert as it is now."""
        result: dict[str, Any] = self._send("POST", f"/v1/alerts/{alert_id}/{action}").json()
        return result

    def accepts_metadata(self, key: str) -> bool:
        """Whether the server takes metadata `key`, as its OpenAPI document says (cached).

        Servers refuse metadata keys they do not know (422), so an optional key such as
        PATH_KEY is sent only to servers that declare it.
        """
        if key not in self._accepts:
            try:
                document = self._send("GET", "/openapi.json").json()
                schema = document["components"]["schemas"]["MetadataIn"]
                extra = schema.get("additionalProperties", True)
                self._accepts[key] = key in schema.get("properties", {}) or extra is not False
            except (errors.NotaryError, ValueError, KeyError, TypeError, AttributeError):
                self._accepts[key] = False
        return self._accepts[key]

    def accepts_fingerprints(self) -> bool:
        """Whether the server takes client-computed fingerprints with hash deposits (its
        OpenAPI document lists `fingerprints` in HashDepositIn; cached). Older servers
        refuse unknown fields, so none are sent to them."""
        if FINGERPRINTS_KEY not in self._accepts:
            try:
                document = self._send("GET", "/openapi.json").json()
                schema = document["components"]["schemas"]["HashDepositIn"]
                self._accepts[FINGERPRINTS_KEY] = FINGERPRINTS_KEY in schema["properties"]
            except (errors.NotaryError, ValueError, KeyError, TypeError, AttributeError):
                self._accepts[FINGERPRINTS_KEY] = False
        return self._accepts[FINGERPRINTS_KEY]

    def deposit_folder(
        self, folder: str | Path, *, hash_only: bool = False, progress: Progress | None = None
    ) -> FolderResults:
        """Deposit every file under `folder` (hidden files and *.cert.json aside).

        Files that cannot be deposited (empty, a link leading out of the folder, a name
        that is not UTF-8, unreadable) are skipped with a logged warning and listed in the
        result's `skipped`; the result's `entries` are the files deposited, with their
        paths under `folder` (certificate_targets(result.entries, out) mirrors the tree).
        """
        planned = plan([Path(folder)])
        for skipped in planned.skipped:
            log.warning("skipped %s: %s", display(skipped.path), skipped.reason)
        results = self.deposit_entries(planned.entries, hash_only=hash_only, progress=progress)
        return FolderResults(results, planned.entries, planned.skipped)

    def deposit_paths(
        self, paths: Sequence[Path], *, hash_only: bool = False, progress: Progress | None = None
    ) -> list[dict[str, Any]]:
        """Deposit files named directly (see deposit_entries)."""
        return self.deposit_entries(
            [Entry(Path(p)) for p in paths], hash_only=hash_only, progress=progress
        )

    def deposit_entries(
        self, entries: Sequence[Entry], *, hash_only: bool = False, progress: Progress | None = None
    ) -> list[dict[str, Any]]:
        """Deposit files; returns their evidence, in the same order.

        Every file is checked before anything is sent: an empty or unreadable one is a
        ValidationError. An entry's path under its folder is recorded as PATH_KEY where
        the server accepts it. hash_only: hash locally (SHA-256 + SM3) and send bulk
        requests of BULK_SIZE, so the files never leave the machine. Otherwise each file
        is uploaded.
        """
        for entry in entries:
            if problem := _problem(entry.path, entry.relative, None):
                raise errors.ValidationError(f"{display(entry.path)}: {problem}")
        with_path = any(e.relative for e in entries) and self.accepts_metadata(PATH_KEY)

        def declared(entry: Entry) -> dict[str, MetadataValue]:
            return {PATH_KEY: entry.relative} if with_path and entry.relative else {}

        results: list[dict[str, Any]] = []
        if not hash_only:
            for entry in entries:
                results.append(self._upload(entry.path, declared(entry)))
                if progress:
                    progress(1)
            return results
        with_fingerprints = self.accepts_fingerprints()
        for chunk in _chunks(list(entries), BULK_SIZE):
            items = []
            for entry in chunk:
                try:
                    with entry.path.open("rb") as fh:
                        digest = hash_stream(fh)
                except OSError as exc:
                    raise errors.ValidationError(
                        f"cannot read {display(entry.path)}: {exc.strerror}"
                    ) from exc
                if digest.size == 0:  # emptied since it was checked
                    raise errors.ValidationError(f"{display(entry.path)}: {EMPTY_FILE}")
                metadata = {"name": entry.name, "size": digest.size, **declared(entry)}
                item: dict[str, Any] = {
                    "sha256": digest.sha256.hex(),
                    "sm3": digest.sm3.hex(),
                    "metadata": metadata,
                }
                if with_fingerprints and (given := local_fingerprints(entry.path, digest.size)):
                    item["fingerprints"] = given
                items.append(item)
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

    def download(self, evidence_id: str, what: str, target: str | Path | None = None) -> Path:
        """Save the deposited `file` or the court `bundle` (zip) of evidence_id to `target`,
        or, without one, in the current folder under the name the server gives it (the
        Content-Disposition name: the same for every client)."""
        if what not in ("file", "bundle"):
            raise errors.ValidationError("download `file` or `bundle`")
        with self._http.stream("GET", f"/v1/evidence/{evidence_id}/{what}") as r:
            if r.status_code >= 400:
                r.read()
                _raise_for(r)
            fallback = f"{evidence_id}.evidence.zip" if what == "bundle" else evidence_id
            path = Path(target) if target is not None else Path(served_name(r, fallback))
            with path.open("wb") as out:
                for chunk in r.iter_bytes():
                    out.write(chunk)
        return path

    def save_certificate(self, evidence_id: str, target: str | Path) -> Path:
        """Write the certificate of evidence_id to `target` (folders created, atomically)."""
        target = Path(target)
        _write_atomic(target, self.certificate(evidence_id))
        return target


def _chunks(items: list[Entry], size: int) -> Iterator[list[Entry]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


WEBHOOK_TOLERANCE_SECONDS: Final = 300
"""How far a webhook message's timestamp may be from the receiver's clock (replay window)."""


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    tolerance: float = WEBHOOK_TOLERANCE_SECONDS,
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a webhook message received from the notary; its JSON body if it is genuine.

    `headers` is any mapping of the request's headers (names in any case); `body` the raw
    bytes as received, before any JSON parsing. The signature (Standard Webhooks style) is
    HMAC-SHA256, keyed by the base64 part of `secret` (whsec_...), over
    `{webhook-id}.{webhook-timestamp}.{body}`; the timestamp must be within `tolerance`
    seconds of `now` (default: this clock), so a captured message cannot be replayed later.
    Raises errors.WebhookVerificationError otherwise. Only the standard library is used
    (and none of the notary's own signing code), so it also checks that code.
    """
    named = {str(k).lower(): str(v) for k, v in headers.items()}
    message_id = named.get("webhook-id")
    stamp = named.get("webhook-timestamp")
    signatures = named.get("webhook-signature")
    if not message_id or not stamp or not signatures:
        raise errors.WebhookVerificationError(
            "missing webhook-id, webhook-timestamp or webhook-signature header"
        )
    try:
        sent = int(stamp)
    except ValueError:
        raise errors.WebhookVerificationError("webhook-timestamp is not a number") from None
    clock = time.time() if now is None else now
    if abs(clock - sent) > tolerance:
        raise errors.WebhookVerificationError(
            f"webhook-timestamp is {abs(clock - sent):.0f} s away from now (over {tolerance:g})"
        )
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise errors.WebhookVerificationError("the secret is not whsec_<base64>") from None
    raw = body.encode() if isinstance(body, str) else bytes(body)
    mac = hmac.new(key, f"{message_id}.{sent}.".encode() + raw, hashlib.sha256).digest()
    expected = base64.b64encode(mac).decode()
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            try:
                document: dict[str, Any] = json.loads(raw)
            except ValueError:
                raise errors.WebhookVerificationError("the body is not JSON") from None
            return document
    raise errors.WebhookVerificationError("no valid signature: wrong secret or altered body")
