"""The published EvidenceRegistry build (ABI, bytecode, runtime code hash).

The artifact is committed (notary/artifacts/EvidenceRegistry.json) and rebuilt
byte-identically from contracts/ by notary.build; the verifier trusts a registry only when
the keccak256 of its on-chain runtime code is one of PUBLISHED_CODE_HASHES.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Build:
    """One compiled registry build."""

    abi: list[dict[str, Any]]
    bytecode: bytes
    runtime_code: bytes
    runtime_code_hash: bytes
    compiler_version: str


@cache
def registry_build() -> Build:
    """The build shipped with this package."""
    text = resources.files("notary.artifacts").joinpath("EvidenceRegistry.json").read_text("utf-8")
    doc = json.loads(text)
    return Build(
        abi=doc["abi"],
        bytecode=bytes.fromhex(doc["bytecode"].removeprefix("0x")),
        runtime_code=bytes.fromhex(doc["deployedBytecode"].removeprefix("0x")),
        runtime_code_hash=bytes.fromhex(doc["deployedBytecodeKeccak256"].removeprefix("0x")),
        compiler_version=doc["compiler"]["version"],
    )


def published_code_hashes() -> frozenset[bytes]:
    """Runtime code hashes of every registry build this verifier accepts."""
    return frozenset({registry_build().runtime_code_hash})
