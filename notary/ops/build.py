"""Compile contracts/EvidenceRegistry.sol reproducibly and write the published build.

py-solc-x drives the compiler; the compiler is solc-js behind the small `solc` front in
hardhat-free-devnet/ (native solc cannot be downloaded here). Version and settings are
pinned below; the output is written with sorted keys so that a rebuild is byte-identical
to the committed files, which a test checks.

Two files are written:
- notary/artifacts/EvidenceRegistry.json: ABI, creation and runtime bytecode, the keccak256
  of the runtime code (what the verifier compares with the chain), compiler and metadata.
- contracts/build/EvidenceRegistry.input.json: the compiler's standard-JSON input with
  every source inlined, so anyone can recompile with any solc of the same version.
"""

from __future__ import annotations

import json
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
    """Compile the registry; return (artifact, standard-JSON input with all sources inlined)."""
    require_node_modules()
    sources = {name: {"content": (REPO_ROOT / name).read_text("utf-8")} for name in SOURCE_NAMES}
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
    contract = output["contracts"][MAIN_SOURCE][CONTRACT_NAME]
    if contract["evm"]["deployedBytecode"]["immutableReferences"]:
        raise ConfigError("the registry must not use immutables: its runtime code must be fixed")
    runtime = bytes.fromhex(contract["evm"]["deployedBytecode"]["object"])
    metadata = json.loads(contract["metadata"])
    artifact = {
        "contractName": CONTRACT_NAME,
        "sourceName": MAIN_SOURCE,
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


def write_build() -> tuple[Path, Path]:
    """Compile and write both build files; return their paths."""
    artifact, full_input = compile_registry()
    INPUT_PATH.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT_PATH.write_text(dumps(artifact), "utf-8")
    INPUT_PATH.write_text(dumps(full_input), "utf-8")
    return ARTIFACT_PATH, INPUT_PATH
