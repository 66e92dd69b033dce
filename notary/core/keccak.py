"""keccak256 (Ethereum's hash, not NIST SHA3-256), from the fastest backend installed.

safe-pysha3 (a C extension, about 1 us a call) is a dependency; eth_hash (pycryptodome,
about 4 us a call) is the fallback on platforms without its wheel. Both give the same bytes,
which tests/unit/core/test_keccak.py checks against published vectors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final


def _pick() -> tuple[str, Callable[[bytes], bytes]]:
    try:
        from sha3 import keccak_256  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        from eth_hash.auto import keccak as fallback

        return "eth_hash", fallback

    def fast(data: bytes) -> bytes:
        digest: bytes = keccak_256(data).digest()
        return digest

    return "pysha3", fast


_BACKEND = _pick()
BACKEND: Final[str] = _BACKEND[0]
keccak256: Final[Callable[[bytes], bytes]] = _BACKEND[1]
