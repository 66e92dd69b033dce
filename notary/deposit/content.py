"""What a file deposit records about its content: the one rule for a file's metadata.

Used by the API's upload (api.routes.evidence, through notary.deposit.files) and by
`notary stamp` (notary.issue.stamp), so a file gets the same metadata whichever way it is
deposited. Imports nothing but the format code: `notary stamp` runs without the server's
packages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from notary.core.cid import PROFILE
from notary.core.hashing import ContentHash
from notary.core.leaf import Metadata
from notary.deposit.metadata import check_declared
from notary.errors import MetadataError

UNNAMED: Final = "unnamed"
"""The name of a file that came without one."""
DEFAULT_MEDIA_TYPE: Final = "application/octet-stream"
"""The media type of a file that came without one (RFC 2046: arbitrary bytes)."""


@dataclass(frozen=True)
class FileContent:
    """A file as received: one pass's hashes and CID, the name and media type it came with
    (None: not given), its kept spool copy (None: the bytes are not kept), and the
    depositor's signature that came with it."""

    hashes: ContentHash
    name: str | None = None
    media_type: str | None = None
    spool: Path | None = None
    signature: bytes | None = None
    """The depositor's signature of the deposit (notary.deposit.signing), if any."""
    signer: str | None = None
    """The depositor key `signature` recovers to, once checked."""


def file_metadata(file: FileContent, declared: Metadata) -> Metadata:
    """The metadata of a file deposit: what the depositor declared, the name and media type
    unless declared (else the file's own, else UNNAMED and DEFAULT_MEDIA_TYPE), the size
    (a declared size must be the file's), and the CID with its profile.

    The declared part is checked here (notary.deposit.metadata.check_declared: MetadataError
    naming the field, also when the declared size is not the file's); the whole, with the
    name and media type the file came with, by the deposit's validation.
    """
    size = file.hashes.digest.size
    metadata = dict(check_declared(declared))
    metadata.setdefault("name", file.name or UNNAMED)
    metadata.setdefault("media_type", file.media_type or DEFAULT_MEDIA_TYPE)
    if metadata.setdefault("size", size) != size:
        raise MetadataError("metadata.size", f"{metadata['size']} is not the file's size {size}")
    metadata["cid"] = file.hashes.cid
    metadata["cid_profile"] = PROFILE
    return metadata
