"""The CID of content under the IPIP-499 profile `unixfs-v1-2025`, computed while streaming.

Byte for byte what the reference importer (ipfs-unixfs-importer, used by Helia and by Kubo's
profile) builds, so the notary knows a file's CID without any IPFS node:

- fixed-size chunks of CHUNK_SIZE (1 MiB), each a raw block: CIDv1, codec raw (0x55);
- one chunk in all: that raw block is the file (its CID is the raw CID of its SHA-256);
- otherwise a balanced tree: leaves grouped by MAX_LINKS (1024), each group reduced to a
  dag-pb node, level by level until one root;
- a node is canonical dag-pb: its links first (Hash, Name "", Tsize = cumulative size of the
  child's DAG), then Data = UnixFS {Type: File, filesize, one blocksize per child};
  CIDv1, codec dag-pb (0x70), sha2-256.

Changing this changes CIDs already written into certificates: see notary/core/__init__.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from notary.core.cid import CHUNK_SIZE, DAG_PB_CODEC, MAX_LINKS, RAW_CODEC, cid_bytes_to_text


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _cid(codec: int, block: bytes) -> bytes:
    return bytes([0x01, codec, 0x12, 0x20]) + hashlib.sha256(block).digest()


@dataclass(frozen=True)
class _Node:
    cid: bytes
    dag_size: int  # Tsize: the block plus everything under it
    file_size: int  # content bytes under it


def _parent(children: list[_Node]) -> _Node:
    data = b"\x08\x02" + b"\x18" + _varint(sum(c.file_size for c in children))
    data += b"".join(b"\x20" + _varint(c.file_size) for c in children)
    links = b"".join(
        _field(2, _field(1, c.cid) + _field(2, b"") + b"\x18" + _varint(c.dag_size))
        for c in children
    )
    block = links + _field(1, data)
    return _Node(
        _cid(DAG_PB_CODEC, block),
        len(block) + sum(c.dag_size for c in children),
        sum(c.file_size for c in children),
    )


class UnixfsHasher:
    """Feed the content with update(); cid() gives its CID under the profile.

    chunk_size and max_links are the profile's; other values exist for tests only.
    """

    def __init__(self, chunk_size: int = CHUNK_SIZE, max_links: int = MAX_LINKS) -> None:
        self._chunk_size = chunk_size
        self._max_links = max_links
        self._chunk = hashlib.sha256()  # the chunk being filled, hashed as it arrives
        self._filled = 0
        self._leaves: list[_Node] = []

    def update(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            take = min(len(view), self._chunk_size - self._filled)
            self._chunk.update(view[:take])
            self._filled += take
            view = view[take:]
            if self._filled == self._chunk_size:
                self._close_chunk()

    def _close_chunk(self) -> None:
        cid = bytes([0x01, RAW_CODEC, 0x12, 0x20]) + self._chunk.digest()
        self._leaves.append(_Node(cid, self._filled, self._filled))
        self._chunk, self._filled = hashlib.sha256(), 0

    def cid(self) -> str:
        """The CID of everything fed so far (the hasher can keep being fed afterwards)."""
        leaves = list(self._leaves)
        if self._filled or not leaves:  # the last, partial chunk (or an empty file)
            tail_cid = bytes([0x01, RAW_CODEC, 0x12, 0x20]) + self._chunk.copy().digest()
            leaves.append(_Node(tail_cid, self._filled, self._filled))
        if len(leaves) == 1:
            return cid_bytes_to_text(leaves[0].cid)
        level = leaves
        while True:
            level = [
                _parent(level[i : i + self._max_links])
                for i in range(0, len(level), self._max_links)
            ]
            if len(level) == 1:
                return cid_bytes_to_text(level[0].cid)
