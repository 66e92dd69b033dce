"""The devnet's IPFS node and the notary's Kubo-RPC client, checked against the specs.

CIDs are checked independently of Helia: content of one chunk or less must get the raw CID
of its SHA-256, and larger content a dag-pb root whose links are the raw CIDs of its 1 MiB
chunks, decoded here from the CAR export with a reader written from the CAR and dag-pb specs.
"""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from notary.core.cid import CHUNK_SIZE, DAG_PB_CODEC, RAW_CODEC, cid_bytes_to_text, raw_cid
from notary.errors import IpfsUnavailableError, NotFoundError
from notary.ipfs.client import KuboRpc
from notary.ops import devnet
from tests.conftest import free_port, make_settings

pytestmark = pytest.mark.devnet


@pytest.fixture(scope="module")
def ipfs(chain) -> KuboRpc:
    return KuboRpc(devnet.status(chain.settings).ipfs_api)


def varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i += 1
        if byte < 0x80:
            return value, i
        shift += 7


def read_car(car: bytes) -> tuple[list[bytes], dict[bytes, bytes]]:
    """CARv1: varint-prefixed dag-cbor header, then (varint len, CID, block) sections."""
    header_len, i = varint(car, 0)
    i += header_len
    blocks: dict[bytes, bytes] = {}
    order = []
    while i < len(car):
        length, i = varint(car, i)
        end = i + length
        start = i
        _version, i = varint(car, i)
        _codec, i = varint(car, i)
        _hash_code, i = varint(car, i)
        digest_len, i = varint(car, i)
        i += digest_len
        cid = car[start:i]
        blocks[cid] = car[i:end]
        order.append(cid)
        i = end
    return order, blocks


def dag_pb_links(block: bytes) -> list[bytes]:
    """Hash fields of the PBLink messages (field 2) of a dag-pb PBNode."""
    links, i = [], 0
    while i < len(block):
        key, i = varint(block, i)
        length, i = varint(block, i)
        value = block[i : i + length]
        i += length
        if key >> 3 == 2:
            j = 0
            while j < len(value):
                k, j = varint(value, j)
                if k & 7 == 2:
                    n, j = varint(value, j)
                    if k >> 3 == 1:
                        links.append(value[j : j + n])
                    j += n
                else:
                    _, j = varint(value, j)
    return links


def test_hello_world_vector(ipfs) -> None:
    expected = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"  # from the issue
    assert ipfs.add(io.BytesIO(b"hello world\n"), "hello.txt") == expected
    assert raw_cid(hashlib.sha256(b"hello world\n").digest()) == expected


@pytest.mark.parametrize("size", [1, 1000, CHUNK_SIZE])
def test_single_chunk_cid_is_the_raw_cid_of_the_sha256(ipfs, size) -> None:
    data = os.urandom(size)
    assert ipfs.add(io.BytesIO(data), "x.bin") == raw_cid(hashlib.sha256(data).digest())


def test_two_chunk_file_has_a_dag_pb_root_over_raw_chunks(ipfs) -> None:
    data = os.urandom(CHUNK_SIZE + 1)
    cid = ipfs.add(io.BytesIO(data), "two.bin")
    assert cid.startswith("bafybei")  # CIDv1 dag-pb sha2-256
    order, blocks = read_car(b"".join(ipfs.export_car(cid)))
    root = order[0]
    assert cid_bytes_to_text(root) == cid and root[1] == DAG_PB_CODEC
    links = dag_pb_links(blocks[root])
    assert [cid_bytes_to_text(link) for link in links] == [
        raw_cid(hashlib.sha256(data[:CHUNK_SIZE]).digest()),
        raw_cid(hashlib.sha256(data[CHUNK_SIZE:]).digest()),
    ]
    assert all(link[1] == RAW_CODEC for link in links)
    for link in links:  # every block in the CAR matches its CID
        assert hashlib.sha256(blocks[link]).digest() == link[-32:]


def test_pin_cat_and_car_round_trip(ipfs) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 17)
    cid = ipfs.add(io.BytesIO(data), "design.png")
    assert cid in ipfs.pins()
    assert b"".join(ipfs.cat(cid)) == data
    _, blocks = read_car(b"".join(ipfs.export_car(cid)))
    assert b"".join(blocks[k] for k in blocks if k[1] == RAW_CODEC) == data
    ipfs.unpin(cid)
    assert cid not in ipfs.pins()
    ipfs.pin(cid)
    assert cid in ipfs.pins()


def test_only_hash_stores_nothing(ipfs) -> None:
    data = os.urandom(2048)
    cid = ipfs.add(io.BytesIO(data), "secret.bin", only_hash=True, pin=False)
    assert cid == raw_cid(hashlib.sha256(data).digest())
    with pytest.raises(NotFoundError):
        b"".join(ipfs.cat(cid))
    with pytest.raises(NotFoundError):
        ipfs.pin(cid)


def test_unreachable_node() -> None:
    with pytest.raises(IpfsUnavailableError):
        KuboRpc(f"http://127.0.0.1:{free_port()}", timeout=2).identity()


def test_restart_keeps_blocks_and_pins(tmp_path) -> None:
    settings = make_settings(tmp_path)
    devnet.up(settings)
    try:
        node = KuboRpc(devnet.status(settings).ipfs_api)
        identity = node.identity()
        data = os.urandom(CHUNK_SIZE + 5)
        cid = node.add(io.BytesIO(data), "kept.bin")
        devnet.down(settings)
        assert devnet.status(settings).ipfs_running is False
        devnet.up(settings)
        again = KuboRpc(devnet.status(settings).ipfs_api)
        assert again.identity() == identity
        assert cid in again.pins()
        assert b"".join(again.cat(cid)) == data
    finally:
        devnet.down(settings)
