"""Streaming multipart upload: parse it chunk by chunk, never hold the file, 413 at the limit.

Parts: `file` (required, the content), `metadata` (optional, JSON of MetadataIn) and
`signature` (optional: the depositor's EIP-712 signature, 0x + 130 hex digits,
notary.deposit.signing).
The file's name and media type come from its part headers unless metadata gives them.
Parsing is all that happens here: each piece of the file goes to the library's one-pass
hasher (notary.core.hashing) and, when files are kept, to its spool (notary.deposit.spool).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from python_multipart.multipart import MultipartParser, parse_options_header

from notary.core import jsontext
from notary.core.hashing import EMPTY_CONTENT, ContentHash, ContentHasher
from notary.core.leaf import Metadata
from notary.deposit.content import FileContent
from notary.deposit.metadata import check_declared
from notary.deposit.spool import SpoolFile
from notary.errors import (
    MalformedSignatureError,
    MetadataError,
    NotaryError,
    PayloadTooLargeError,
    ValidationError,
)

MAX_METADATA_PART_BYTES: Final = 64 * 1024
MAX_SIGNATURE_PART_BYTES: Final = 256
_SIGNATURE: Final = re.compile(r"(0x)?[0-9a-fA-F]{130}")
MULTIPART_OVERHEAD_BYTES: Final = 128 * 1024
"""Room for boundaries, part headers and the metadata part beyond the file itself."""


@dataclass
class _Part:
    """Header state of the part being parsed."""

    name: str = ""
    header_name: bytes = b""
    header_value: bytes = b""
    headers: dict[bytes, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Upload:
    """A whole upload: the file (its spool copy fsynced, when a spool folder was given) and
    the metadata declared for it (checked by notary.deposit.metadata)."""

    file: FileContent
    declared: Metadata
    data: bytes | None = None
    """The file's bytes when `receive` was asked to keep up to `keep_bytes` of them and the
    file fit; None otherwise (the perceptual fingerprinter of notary.monitor needs them)."""


@dataclass
class _File:
    """What the `file` part has given so far."""

    hasher: ContentHasher = field(default_factory=ContentHasher)
    name: str | None = None
    media_type: str | None = None
    hashes: ContentHash | None = None
    """Set when the part has ended."""


async def receive(
    content_type: str | None,
    content_length: str | None,
    body: AsyncIterator[bytes],
    max_bytes: int,
    spool_dir: Path | None = None,
    keep_bytes: int = 0,
) -> Upload:
    """Parse a multipart body chunk by chunk into an Upload: ValidationError for bad input,
    PayloadTooLargeError past `max_bytes`, StorageError when the spool cannot keep the file.
    A file of at most `keep_bytes` bytes is also kept in memory (Upload.data)."""
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

    part = _Part()
    file: _File | None = None
    spool: SpoolFile | None = None
    meta_buf = bytearray()
    sig_buf = bytearray()
    kept_bytes: bytearray | None = bytearray() if keep_bytes > 0 else None
    size = 0

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part.header_name += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part.header_value += data[start:end]

    def on_header_end() -> None:
        part.headers[part.header_name.lower()] = part.header_value
        part.header_name, part.header_value = b"", b""

    def on_headers_finished() -> None:
        nonlocal file, spool
        _, disp = parse_options_header(part.headers.get(b"content-disposition", b""))
        part.name = disp.get(b"name", b"").decode("utf-8", "replace")
        if part.name == "file":
            if file is not None:
                raise ValidationError("only one `file` part is allowed")
            file = _File()
            if spool_dir is not None:
                spool = SpoolFile(spool_dir)
            raw = disp.get(b"filename")
            file.name = raw.decode("utf-8", "strict") if raw else None
            ctype = part.headers.get(b"content-type")
            file.media_type = ctype.decode("latin-1") if ctype else None

    def on_part_data(data: bytes, start: int, end: int) -> None:
        nonlocal size, kept_bytes
        if part.name == "file":
            assert file is not None
            size += end - start
            if size > max_bytes:
                raise PayloadTooLargeError(f"file is larger than the limit of {max_bytes} bytes")
            piece = memoryview(data)[start:end]  # no copy, shared by the hashes and the spool
            file.hasher.update(piece)
            if spool is not None:
                spool.write(piece)
            if kept_bytes is not None:
                if size > keep_bytes:
                    kept_bytes = None  # too large to keep: let it go at once
                else:
                    kept_bytes += piece
        elif part.name == "metadata":
            meta_buf.extend(data[start:end])
            if len(meta_buf) > MAX_METADATA_PART_BYTES:
                raise ValidationError("metadata part is too large")
        elif part.name == "signature":
            sig_buf.extend(data[start:end])
            if len(sig_buf) > MAX_SIGNATURE_PART_BYTES:
                raise MalformedSignatureError("signature", "the signature part is too large")
        else:
            raise ValidationError(
                f"unknown part {part.name!r}: use `file`, `metadata` and `signature`"
            )

    def on_part_end() -> None:
        if part.name == "file" and file is not None:
            file.hashes = file.hasher.result()
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
        hashes = _whole(file)
        declared = _declared(meta_buf)
        signature = signature_bytes(sig_buf.decode("ascii", "replace").strip()) if sig_buf else None
    except BaseException:
        if spool is not None:
            spool.discard()
        raise
    assert file is not None
    kept = None
    if spool is not None:  # the fsync can take seconds: not on the event loop
        kept = await asyncio.to_thread(spool.keep)
    data = bytes(kept_bytes) if kept_bytes is not None else None
    return Upload(FileContent(hashes, file.name, file.media_type, kept, signature), declared, data)


def signature_bytes(text: str, where: str = "signature") -> bytes:
    """The 65 bytes of a signature written as 0x + 130 hex digits (0x optional)."""
    if not _SIGNATURE.fullmatch(text):
        raise MalformedSignatureError(where, "a signature is 65 bytes: 0x + 130 hex digits")
    return bytes.fromhex(text.removeprefix("0x"))


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


def _whole(file: _File | None) -> ContentHash:
    """The hashes of a complete, non-empty `file` part."""
    if file is None or file.hashes is None:
        raise ValidationError("the upload has no `file` part")
    if file.hashes.digest.size == 0:
        raise ValidationError(EMPTY_CONTENT)
    return file.hashes


def _declared(meta_buf: bytearray) -> Metadata:
    """The metadata part as declared (none: nothing declared), checked by
    notary.deposit.metadata, which names the field it refuses."""
    if not meta_buf:
        return {}
    parsed = jsontext.loads(
        bytes(meta_buf), max_bytes=MAX_METADATA_PART_BYTES, what="metadata part"
    )
    if not isinstance(parsed, dict):
        raise MetadataError("metadata", "the metadata part must be a JSON object")
    return check_declared(parsed)  # refused before the spool copy is kept (an fsync)
