"""Streaming multipart upload: hash while receiving, never hold the file, 413 at the limit.

Parts: `file` (required, the content) and `metadata` (optional, JSON of MetadataIn).
The file's name and media type come from its part headers unless metadata gives them.
"""

from __future__ import annotations

import asyncio
import errno
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from python_multipart.multipart import MultipartParser, parse_options_header

from notary.core import jsontext
from notary.core.hashing import EMPTY_CONTENT, ContentDigest, StreamHasher
from notary.core.unixfs import UnixfsHasher
from notary.errors import (
    InsufficientStorageError,
    NotaryError,
    PayloadTooLargeError,
    StorageError,
    ValidationError,
)

MAX_METADATA_PART_BYTES: Final = 64 * 1024
MULTIPART_OVERHEAD_BYTES: Final = 128 * 1024
"""Room for boundaries, part headers and the metadata part beyond the file itself."""


@dataclass
class _Part:
    """Header state of the part being parsed."""

    name: str = ""
    header_name: bytes = b""
    header_value: bytes = b""
    headers: dict[bytes, bytes] = field(default_factory=dict)


@dataclass
class Upload:
    digest: ContentDigest | None = None
    cid: str | None = None
    filename: str | None = None
    content_type: str | None = None
    metadata: dict[str, object] = field(default_factory=dict)
    spool: Path | None = None
    """The received bytes, fsynced, when a spool folder was given."""


def _storage_error(exc: OSError) -> StorageError:
    """The domain error for a failed spool write: a full disk is the server's problem,
    not the client's (507), and says so; anything else is storage being unavailable."""
    if exc.errno in {errno.ENOSPC, errno.EDQUOT}:
        return InsufficientStorageError(
            "no space left to store the upload; nothing was recorded, try again later"
        )
    return StorageError(f"cannot store the upload: {exc.strerror or type(exc).__name__}")


class _Spool:
    """Receives the file into <spool>/<random>.part; `keep()` fsyncs and renames it.

    Every OSError (a full disk above all) becomes a StorageError, and the partial file is
    removed by `discard()`, which the caller runs on any failure.
    """

    def __init__(self, folder: Path) -> None:
        self.final = folder / secrets.token_hex(16)
        self.part = self.final.with_suffix(".part")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._file = self.part.open("xb")
        except OSError as exc:
            raise _storage_error(exc) from exc

    def write(self, data: bytes | memoryview) -> None:
        try:
            self._file.write(data)
        except OSError as exc:
            raise _storage_error(exc) from exc

    def keep(self) -> Path:
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self.part.rename(self.final)
        except OSError as exc:
            self.discard()
            raise _storage_error(exc) from exc
        return self.final

    def discard(self) -> None:
        try:
            self._file.close()  # may fail again flushing what a full disk refused
        except OSError:
            pass
        finally:
            self.part.unlink(missing_ok=True)


async def receive(
    content_type: str | None,
    content_length: str | None,
    body: AsyncIterator[bytes],
    max_bytes: int,
    spool_dir: Path | None = None,
) -> Upload:
    """Parse a multipart body chunk by chunk; raise ValidationError/PayloadTooLargeError."""
    media, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if media != b"multipart/form-data" or not boundary:
        raise ValidationError("upload must be multipart/form-data with a `file` part")
    if (
        content_length is not None
        and content_length.isdigit()
        and int(content_length) > max_bytes + MULTIPART_OVERHEAD_BYTES
    ):
        raise PayloadTooLargeError(f"file is larger than the limit of {max_bytes} bytes")

    upload = Upload()
    part = _Part()
    hasher: StreamHasher | None = None
    cids = UnixfsHasher()
    spool: _Spool | None = None
    meta_buf = bytearray()
    size = 0

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part.header_name += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part.header_value += data[start:end]

    def on_header_end() -> None:
        part.headers[part.header_name.lower()] = part.header_value
        part.header_name, part.header_value = b"", b""

    def on_headers_finished() -> None:
        nonlocal hasher
        _, disp = parse_options_header(part.headers.get(b"content-disposition", b""))
        part.name = disp.get(b"name", b"").decode("utf-8", "replace")
        if part.name == "file":
            if hasher is not None:
                raise ValidationError("only one `file` part is allowed")
            hasher = StreamHasher()
            if spool_dir is not None:
                nonlocal spool
                spool = _Spool(spool_dir)
            raw = disp.get(b"filename")
            upload.filename = raw.decode("utf-8", "strict") if raw else None
            ctype = part.headers.get(b"content-type")
            upload.content_type = ctype.decode("latin-1") if ctype else None

    def on_part_data(data: bytes, start: int, end: int) -> None:
        nonlocal size
        if part.name == "file":
            assert hasher is not None
            size += end - start
            if size > max_bytes:
                raise PayloadTooLargeError(f"file is larger than the limit of {max_bytes} bytes")
            piece = memoryview(data)[start:end]  # no copy, shared by the three consumers
            hasher.update(piece)
            cids.update(piece)
            if spool is not None:
                spool.write(piece)
        elif part.name == "metadata":
            meta_buf.extend(data[start:end])
            if len(meta_buf) > MAX_METADATA_PART_BYTES:
                raise ValidationError("metadata part is too large")
        else:
            raise ValidationError(f"unknown part {part.name!r}: use `file` and `metadata`")

    def on_part_end() -> None:
        if part.name == "file" and hasher is not None:
            upload.digest = hasher.digest()
            upload.cid = cids.cid()
        part.headers = {}

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        await _parse(parser, body)
        _check_complete(upload, meta_buf)
    except BaseException:
        if spool is not None:
            spool.discard()
        raise
    if spool is not None:  # the fsync can take seconds: not on the event loop
        upload.spool = await asyncio.to_thread(spool.keep)
    return upload


async def _parse(parser: MultipartParser, body: AsyncIterator[bytes]) -> None:
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except NotaryError:  # ours: bad input, too large, storage failing
        raise
    except UnicodeDecodeError as exc:
        raise ValidationError("file name is not valid UTF-8") from exc
    except Exception as exc:  # python-multipart's own parse errors
        raise ValidationError(f"malformed multipart body: {type(exc).__name__}") from exc


def _check_complete(upload: Upload, meta_buf: bytearray) -> None:
    if upload.digest is None:
        raise ValidationError("the upload has no `file` part")
    if upload.digest.size == 0:
        raise ValidationError(EMPTY_CONTENT)
    if meta_buf:
        parsed = jsontext.loads(
            bytes(meta_buf), max_bytes=MAX_METADATA_PART_BYTES, what="metadata part"
        )
        if not isinstance(parsed, dict):
            raise ValidationError("metadata part must be a JSON object")
        upload.metadata = parsed
