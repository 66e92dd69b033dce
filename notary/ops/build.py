"""Compile the registry contracts reproducibly and write their published builds.

py-solc-x drives the compiler; the compiler is solc-js behind the small `solc` front in
hardhat-free-devnet/ (native solc cannot be downloaded here). Version and settings are
pinned below; the output is written with sorted keys so that a rebuild is byte-identical
to the committed files, which a test checks.

Each contract in TARGETS (EvidenceRegistry, the v1 registry; ConsortiumRegistry, the
consortium registry of docs/consortium.md) is compiled on its own, and two files are written
for it:
- notary/artifacts/NAME.json: ABI, creation and runtime bytecode, the keccak256 of the
  runtime code (what the verifier compares with the chain), compiler and metadata.
- contracts/build/NAME.input.json: the compiler's standard-JSON input with every source
  inlined, so anyone can recompile with any solc of the same version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak

from notary.errors import ConfigError
from notary.ops.toolchain import NODE_MODULES, REPO_ROOT, SOLC_WRAPPER, require_node_modules

SOLC_VERSION = "0.8.37+commit.f401782d.Emscripten.clang"
"""The one compiler the published build comes from (solc-js; native solc gives equal code)."""

CONTRACT_NAME = "EvidenceRegistry"
SOURCE_NAMES = ("contracts/IEvidenceRegistry.sol", "contracts/EvidenceRegistry.sol")
MAIN_SOURCE = "contracts/EvidenceRegistry.sol"

COMPILER_SETTINGS: dict[str, Any] = {
    "evmVersion": "cancun",
    "optimizer": {"enabled": True, "runs": 200},
    "metadata": {"bytecodeHash": "ipfs"},
    "outputSelection": {
        "*": {
            "*": [
                "abi",
                "metadata",
                "evm.bytecode.object",
                "evm.deployedBytecode.object",
                "evm.deployedBytecode.immutableReferences",
            ]
        }
    },
}
"""Pinned settings. `cancun` keeps the code deployable on Besu/QBFT consortium chains."""

ARTIFACT_PATH = REPO_ROOT / "notary" / "artifacts" / f"{CONTRACT_NAME}.json"
INPUT_PATH = REPO_ROOT / "contracts" / "build" / f"{CONTRACT_NAME}.input.json"


@dataclass(frozen=True)
class Target:
    """One published contract: its name, its own sources (OpenZeppelin imports are read
    from node_modules), and where its two build files go."""

    name: str
    sources: tuple[str, ...]

    @property
    def main_source(self) -> str:
        return f"contracts/{self.name}.sol"

    @property
    def artifact_path(self) -> Path:
        return REPO_ROOT / "notary" / "artifacts" / f"{self.name}.json"

    @property
    def input_path(self) -> Path:
        return REPO_ROOT / "contracts" / "build" / f"{self.name}.input.json"


V1 = Target(CONTRACT_NAME, SOURCE_NAMES)
CONSORTIUM = Target(
    "ConsortiumRegistry", ("contracts/IConsortiumRegistry.sol", "contracts/ConsortiumRegistry.sol")
)
TARGETS = (V1, CONSORTIUM)
"""Every published build; `notary build` writes and `--check`s all of them."""


def dumps(document: object) -> str:
    """Serialize a build file deterministically (sorted keys, two-space indent, final newline)."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _compile(standard_input: dict[str, Any]) -> dict[str, Any]:
    import solcx  # imported here: only the build needs it

    try:
        output: dict[str, Any] = solcx.compile_standard(
            standard_input, solc_binary=SOLC_WRAPPER, allow_empty=False
        )
    except solcx.exceptions.SolcError as exc:
        raise ConfigError(f"compilation failed: {exc}") from exc
    return output


def compile_registry() -> tuple[dict[str, Any], dict[str, Any]]:
    """Compile the v1 registry; return (artifact, standard-JSON input with all sources inlined)."""
    return compile_contract(V1)


def compile_contract(target: Target) -> tuple[dict[str, Any], dict[str, Any]]:
    """Compile `target`; return (artifact, standard-JSON input with all sources inlined)."""
    require_node_modules()
    # REPO_ROOT is read at call time (a test compiles an edited copy elsewhere).
    sources = {name: {"content": (REPO_ROOT / name).read_text("utf-8")} for name in target.sources}
    standard_input: dict[str, Any] = {
        "language": "Solidity",
        "sources": sources,
        "settings": COMPILER_SETTINGS,
    }
    import solcx

    found = str(solcx.wrapper.get_solc_version(SOLC_WRAPPER, with_commit_hash=True))
    if not SOLC_VERSION.startswith(found.split("+")[0]):
        raise ConfigError(f"solc-js is {found}, the build is pinned to {SOLC_VERSION}")
    output = _compile(standard_input)
    contract = output["contracts"][target.main_source][target.name]
    if contract["evm"]["deployedBytecode"]["immutableReferences"]:
        raise ConfigError("the registry must not use immutables: its runtime code must be fixed")
    runtime = bytes.fromhex(contract["evm"]["deployedBytecode"]["object"])
    metadata = json.loads(contract["metadata"])
    artifact = {
        "contractName": target.name,
        "sourceName": target.main_source,
        "compiler": {"version": metadata["compiler"]["version"], "settings": COMPILER_SETTINGS},
        "abi": contract["abi"],
        "bytecode": "0x" + contract["evm"]["bytecode"]["object"],
        "deployedBytecode": "0x" + runtime.hex(),
        "deployedBytecodeKeccak256": "0x" + keccak(runtime).hex(),
        "metadata": contract["metadata"],
    }
    full_sources = {
        name: {"content": _read_source(name, sources)} for name in sorted(output["sources"])
    }
    full_input = {"language": "Solidity", "sources": full_sources, "settings": COMPILER_SETTINGS}
    return artifact, full_input


def _read_source(name: str, given: dict[str, dict[str, str]]) -> str:
    if name in given:
        return given[name]["content"]
    return (NODE_MODULES / name).read_text("utf-8")


def write_build() -> list[Path]:
    """Compile every target and write its two build files; return their paths."""
    written: list[Path] = []
    for target in TARGETS:
        artifact, full_input = compile_contract(target)
        target.input_path.parent.mkdir(parents=True, exist_ok=True)
        target.artifact_path.write_text(dumps(artifact), "utf-8")
        target.input_path.write_text(dumps(full_input), "utf-8")
        written += [target.artifact_path, target.input_path]
    return written


def committed_build_matches(target: Target) -> bool:
    """Whether the committed build files of `target` equal a fresh compilation, byte for byte."""
    artifact, full_input = compile_contract(target)
    return target.artifact_path.read_text("utf-8") == dumps(
        artifact
    ) and target.input_path.read_text("utf-8") == dumps(full_input)
