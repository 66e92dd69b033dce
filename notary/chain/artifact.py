"""The published registry builds (ABI, bytecode, runtime code hash): EvidenceRegistry (v1)
and ConsortiumRegistry (docs/consortium.md).

The artifact is committed (notary/artifacts/EvidenceRegistry.json) and rebuilt
byte-identically from contracts/ by notary.ops.build; the verifier trusts a registry only when
the keccak256 of its on-chain runtime code is one of PUBLISHED_CODE_HASHES.

PUBLISHED_CODE_HASHES is written out here, not read from the artifact: it is the value
published in docs/certificate.md (section 5) and frozen for certificate version 1, so a
rebuilt or edited artifact cannot change what a verifier accepts. A test checks that the
artifact, this constant and the document agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

V1_REGISTRY_CODE_HASH: Final = bytes.fromhex(
    "02b19567145d3003d2344fb0c416d000303fcccb1b04cc40f222ae210e60500e"
)
"""keccak256 of the runtime code of EvidenceRegistry v1 (solc 0.8.37, settings in the artifact)."""
PUBLISHED_CODE_HASHES: Final = frozenset({V1_REGISTRY_CODE_HASH})
"""Every registry build a version 1 certificate may name (docs/certificate.md, section 5)."""
V2_REGISTRY_CODE_HASH: Final = bytes.fromhex(
    "eca162cb62e308acb1f90a736ebfebb9b60eb018c454328db18eb3ae8e29e4c3"
)
"""keccak256 of the runtime code of ConsortiumRegistry (solc 0.8.37), build 2 (with the
DEPOSITOR role), published for certificate version 2 (docs/certificate-v2.md, section 3): the
build this code deploys. Not in PUBLISHED_CODE_HASHES: a version 1 certificate never names it."""
V2_BUILD_1_CODE_HASH: Final = bytes.fromhex(
    "9ca95464c1a72847eb55452da5d2ba0a6193aacdfb2399f146a5403c60eec049"
)
"""ConsortiumRegistry build 1 (no DEPOSITOR role), published for version 2 before depositor
signatures: still accepted, so version 2 certificates anchored on it keep verifying (it has
no DEPOSITOR members, so none of its certificates can carry a depositor signature that
verifies)."""
PUBLISHED_CODE_HASHES_V2: Final = frozenset({V2_REGISTRY_CODE_HASH, V2_BUILD_1_CODE_HASH})


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
    """The EvidenceRegistry (v1) build shipped with this package."""
    return _load("EvidenceRegistry")


@cache
def consortium_build() -> Build:
    """The ConsortiumRegistry build shipped with this package (not a v1 registry: its code
    hash is not in PUBLISHED_CODE_HASHES; certificate version 2 publishes it,
    V2_REGISTRY_CODE_HASH)."""
    return _load("ConsortiumRegistry")


def _load(name: str) -> Build:
    text = resources.files("notary.artifacts").joinpath(f"{name}.json").read_text("utf-8")
    doc = json.loads(text)
    return Build(
        abi=doc["abi"],
        bytecode=bytes.fromhex(doc["bytecode"].removeprefix("0x")),
        runtime_code=bytes.fromhex(doc["deployedBytecode"].removeprefix("0x")),
        runtime_code_hash=bytes.fromhex(doc["deployedBytecodeKeccak256"].removeprefix("0x")),
        compiler_version=doc["compiler"]["version"],
    )


def published_code_hashes(version: int = 1) -> frozenset[bytes]:
    """Runtime code hashes of every registry build a certificate of `version` may name."""
    return PUBLISHED_CODE_HASHES_V2 if version == 2 else PUBLISHED_CODE_HASHES
