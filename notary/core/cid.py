"""CIDs under the IPIP-499 profile `unixfs-v1-2025`, as far as they follow from the hashes.

The profile: CIDv1, raw leaves, 1 MiB chunks, at most 1024 links per node, balanced layout.
So content of at most one chunk is a single raw block and its CID is

    "b" + base32(0x01 (CIDv1) | 0x55 (raw) | 0x12 0x20 (sha2-256, 32 bytes) | sha256)

(RFC 4648 lower case, no padding): a court can derive it from the certificate's SHA-256.
Larger content has a dag-pb root over raw leaves; recompute it with any IPFS
implementation that supports the profile (docs/certificate.md).
"""

from __future__ import annotations

import base64
from typing import Final

PROFILE: Final = "unixfs-v1-2025"
CHUNK_SIZE: Final = 1024 * 1024
MAX_LINKS: Final = 1024
RAW_CODEC: Final = 0x55
DAG_PB_CODEC: Final = 0x70
SHA2_256: Final = 0x12


def cid_bytes_to_text(cid: bytes) -> str:
    """Multibase base32 text of binary CIDv1 bytes."""
    return "b" + base64.b32encode(cid).decode("ascii").lower().rstrip("=")


def raw_cid(sha256: bytes) -> str:
    """The CID of a raw block whose SHA-256 is `sha256`."""
    if len(sha256) != 32:
        raise ValueError("sha256 must be 32 bytes")
    return cid_bytes_to_text(bytes([0x01, RAW_CODEC, SHA2_256, 0x20]) + sha256)
