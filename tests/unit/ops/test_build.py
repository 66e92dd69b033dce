"""The committed registry builds (EvidenceRegistry v1 and ConsortiumRegistry) are
byte-identical to a fresh compilation with the pinned solc."""

from __future__ import annotations

import json

import pytest
from eth_utils import keccak

from notary.chain.artifact import consortium_build, registry_build
from notary.ops import build


@pytest.mark.node
@pytest.mark.parametrize("target", build.TARGETS, ids=lambda t: t.name)
def test_committed_build_is_reproducible(target: build.Target) -> None:
    artifact, full_input = build.compile_contract(target)
    assert target.artifact_path.read_text("utf-8") == build.dumps(artifact)
    assert target.input_path.read_text("utf-8") == build.dumps(full_input)
    assert build.committed_build_matches(target)


def test_v1_paths_are_unchanged() -> None:
    """The v1 build keeps its file names (docs/certificate.md links them)."""
    assert build.V1.artifact_path == build.ARTIFACT_PATH
    assert build.V1.input_path == build.INPUT_PATH


def test_consortium_artifact_is_self_consistent() -> None:
    shipped = consortium_build()
    assert keccak(shipped.runtime_code) == shipped.runtime_code_hash
    assert shipped.runtime_code_hash != registry_build().runtime_code_hash
    names = {item.get("name") for item in shipped.abi}
    v1_views = {"anchorOf", "anchorCount", "rootAt", "logHead", "verify", "Anchored"}
    assert v1_views | {"anchor", "changeConfig", "endorsementOf", "Endorsed", "PolicySet"} <= names
    assert shapes(shipped.abi, v1_views) == shapes(registry_build().abi, v1_views)


def shapes(abi: list[dict[str, object]], names: set[str]) -> set[str]:
    """The ABI entries named in `names`, as text; only the struct's interface name in
    internalType may differ between the two registries."""
    return {
        json.dumps(item, sort_keys=True).replace("IConsortiumRegistry", "IEvidenceRegistry")
        for item in abi
        if item.get("name") in names
    }


@pytest.mark.node
def test_a_source_change_is_detected(monkeypatch, tmp_path) -> None:
    """The check can fail: compiling an edited contract gives a different runtime code."""
    edited = tmp_path / "contracts"
    edited.mkdir()
    for name in build.SOURCE_NAMES:
        text = (build.REPO_ROOT / name).read_text("utf-8")
        (tmp_path / name).write_text(
            text.replace("MAX_MANIFEST_LENGTH = 256", "MAX_MANIFEST_LENGTH = 257"), "utf-8"
        )
    monkeypatch.setattr(build, "REPO_ROOT", tmp_path)
    artifact, _ = build.compile_registry()
    assert artifact["deployedBytecode"] != "0x" + registry_build().runtime_code.hex()
    assert artifact["deployedBytecodeKeccak256"] != "0x" + registry_build().runtime_code_hash.hex()


def test_artifact_is_self_consistent() -> None:
    shipped = registry_build()
    assert keccak(shipped.runtime_code) == shipped.runtime_code_hash
    assert shipped.compiler_version == build.SOLC_VERSION.removesuffix(".Emscripten.clang")
    doc = json.loads(build.ARTIFACT_PATH.read_text("utf-8"))
    assert doc["compiler"]["settings"] == build.COMPILER_SETTINGS
    names = {item.get("name") for item in shipped.abi}
    assert {
        "anchor",
        "anchorOf",
        "anchorCount",
        "rootAt",
        "logHead",
        "verify",
        "Anchored",
        "EvidenceRegistry__AlreadyAnchored",
    } <= names


def test_input_carries_every_source_inline() -> None:
    full_input = json.loads(build.INPUT_PATH.read_text("utf-8"))
    metadata = json.loads(json.loads(build.ARTIFACT_PATH.read_text("utf-8"))["metadata"])
    assert set(full_input["sources"]) == set(metadata["sources"])
    for name, source in full_input["sources"].items():
        expected = metadata["sources"][name]["keccak256"]
        assert "0x" + keccak(source["content"].encode()).hex() == expected
