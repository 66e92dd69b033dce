"""keccak256 backends: the fast one and the fallback agree with published vectors."""

from __future__ import annotations

import os

import pytest
from eth_hash.auto import keccak as eth_hash_keccak

from notary.core import keccak as module

# Ethereum's keccak256 of "" and of "abc" (the empty-code hash every client reports, and the
# Keccak team's "abc" vector); NIST SHA3-256 gives other bytes for both.
VECTORS = [
    (b"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
    (b"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
]


def test_the_fast_backend_is_installed():
    assert module.BACKEND == "pysha3"


@pytest.mark.parametrize(("data", "expected"), VECTORS)
def test_published_vectors(data, expected):
    assert module.keccak256(data).hex() == expected


def test_agrees_with_eth_hash_on_random_inputs():
    for size in (0, 1, 31, 32, 64, 135, 136, 137, 1000):
        data = os.urandom(size)
        assert module.keccak256(data) == eth_hash_keccak(data)


def test_falls_back_to_eth_hash_without_pysha3(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "sha3", None)  # import sha3 -> ImportError
    backend, function = module._pick()
    assert backend == "eth_hash"
    for data, expected in VECTORS:
        assert function(data).hex() == expected
