"""Certificate version 2 against real anvils: the golden vectors and a fresh consortium anchor
(endorsements and depositor signatures).

Two chains: the committed golden state (tests/vectors/v2/chain-state.json, loaded read-only)
on which every vector must get its index.json outcome from the reference verifier and the
independent JavaScript one; and the session anvil, on which this test deploys a
ConsortiumRegistry, removes an endorser by quorum, collects real EIP-712 endorsements,
anchors, builds the certificate with issue_v2 and verifies it and each forgery class
(tests/vectors/v2/make_vectors.py `scenario`, the same code that made the vectors).
scripts/verify-with-standard-tools.sh runs on the same vectors in test_standard_tools_v2.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from notary.ops.devnet import rpc_call
from notary.ops.keys import dev_account
from notary.ops.toolchain import anvil_binary
from notary.verify.certificate import Outcome, verify
from tests.conftest import VECTORS, free_port, make_settings, run_cli, run_node
from tests.rpc_proxy import RpcProxy
from tests.vectors.v2.make_vectors import ORGS, REGULATOR, Vector, scenario

pytestmark = [pytest.mark.devnet, pytest.mark.node]

V2 = VECTORS / "v2"
INDEX = json.loads((V2 / "index.json").read_text("utf-8"))
OUTCOME_OF_EXIT = {0: "valid", 1: "invalid", 2: "cannot_decide"}
REASONS = {
    "non-member-signature": "it was never one before the anchor",
    "duplicate-endorser": "endorses twice",
    "member-removed-before-anchor": "stopped being one in block",
    "threshold-lowered": "required 2 endorsements",
    "endorsement-of-another-root": "recovers to",
    "endorsement-for-another-chain": "recovers to",
    "organization-renamed": "organization name",
    "depositor-key-unregistered": "was not a DEPOSITOR member",
    "depositor-key-of-another-organization": "another organization's key",
    "depositor-key-removed-before-anchor": "it stopped being one in block",
    "depositor-signature-over-other-content": "the depositor signature recovers to",
    "depositor-signature-stripped": "carries no depositor_signature",
    "depositor-organization-renamed": "has name",
}
JS_REASONS = {
    "depositor-key-unregistered": "was not a DEPOSITOR member",
    "depositor-key-of-another-organization": "otherwise (organization id or name)",
    "depositor-key-removed-before-anchor": "was not a DEPOSITOR member",
    "depositor-signature-over-other-content": "the depositor signature recovers to",
    "depositor-signature-stripped": "carries no depositor_signature",
    "depositor-organization-renamed": "otherwise (organization id or name)",
}
"""The independent verifier's words for the depositor forgeries (it must fail at the same step)."""
"""What each forgery's reason must say (the step that caught it, docs/certificate-v2.md)."""


@contextmanager
def anvil(*args: str) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [str(anvil_binary()), "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import time

        deadline = time.monotonic() + 30
        while True:
            try:
                rpc_call(url, "eth_chainId")
                break
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # polling with a deadline
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture(scope="module")
def golden_v2() -> Iterator[str]:
    with anvil("--chain-id", "31337", "--load-state", str(V2 / "chain-state.json")) as url:
        yield url


def _javascript(cert: Path, rpc: str, file: Path | None) -> tuple[str, dict[str, object]]:
    done = run_node(
        "verify_certificate.js", str(cert), rpc, *([str(file)] if file else []), check=False
    )
    result = json.loads(done.stdout)
    assert "verifier error" not in done.stdout, done.stdout
    assert OUTCOME_OF_EXIT[done.returncode] == result["outcome"], done.stdout
    return str(result["outcome"]), result


@pytest.mark.parametrize("vector", INDEX, ids=lambda v: v["certificate"].removesuffix(".cert.json"))
def test_golden_v2_vector_gets_its_outcome_from_both_verifiers(
    golden_v2: str, vector: dict[str, str]
) -> None:
    cert = V2 / vector["certificate"]
    file = V2 / vector["file"] if vector["file"] else None
    if file is None:
        verdict = verify(cert.read_bytes(), golden_v2)
    else:
        with file.open("rb") as fh:
            verdict = verify(cert.read_bytes(), golden_v2, fh)
    assert verdict.outcome.value == vector["outcome"], (vector["why"], verdict.reason)
    name = vector["certificate"].removesuffix(".cert.json")
    if name in REASONS:
        assert REASONS[name] in verdict.reason, verdict.reason
    js, result = _javascript(cert, golden_v2, file)
    assert js == vector["outcome"], vector["why"]
    if name in JS_REASONS:
        assert JS_REASONS[name] in str(result["reason"]), result


def test_notary_verify_says_who_endorsed_in_english_chinese_and_json(
    golden_v2: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    cert, file = V2 / "valid.cert.json", V2 / "design.txt"
    doc = json.loads(cert.read_text("utf-8"))
    named = doc["anchor"]["endorsement"]["endorsements"]
    base = ["verify", "-c", str(cert), "-f", str(file), "--rpc", golden_v2]

    en = run_cli(settings, *base, "--lang", "en")
    assert en.returncode == 0, en.stdout + en.stderr
    assert "Endorsed by 2 of the 3 endorsing members (2 required): " in en.stdout
    for e in named:
        assert f"{e['organization']} ({e['member']})" in en.stdout

    zh = run_cli(settings, *base, "--lang", "zh")
    assert zh.returncode == 0, zh.stdout + zh.stderr
    assert "由 3 个背书成员中的 2 个背书(要求 2 个):" in zh.stdout
    assert "背书签名" in zh.stdout  # the checks are named in Chinese too

    as_json = run_cli(settings, *base, "--json")
    facts = json.loads(as_json.stdout)["facts"]["endorsement"]
    assert facts["endorsing_members"] == 3 and facts["threshold"] == 2
    assert [(e["member"], e["organization"]) for e in facts["endorsed_by"]] == [
        (e["member"], e["organization"]) for e in named
    ]

    assert f"Deposited and signed by {doc['depositor_signature']['organization']} " in en.stdout
    assert f"({doc['depositor_signature']['signer']})." in en.stdout
    assert f"由 {doc['depositor_signature']['organization']}(" in zh.stdout
    signed = json.loads(as_json.stdout)["facts"]["depositor_signature"]
    assert signed["signer"] == doc["depositor_signature"]["signer"]

    _, js = _javascript(cert, golden_v2, file)
    assert js["depositor_signature"] == {
        "signer": doc["depositor_signature"]["signer"],
        "organization": doc["depositor_signature"]["organization"],
    }
    assert js["endorsement"] == {
        "endorsed_by": [e["member"] for e in named],
        "endorsing_members": 3,
        "threshold": 2,
    }


@pytest.fixture(scope="module")
def fresh(chain) -> tuple[list[Vector], dict[str, bytes]]:
    """A consortium anchor made now on the session anvil (accounts 5 and 6 of the devnet)."""
    return scenario(chain.rpc_url, dev_account(5), dev_account(6), lambda: None)


def test_a_fresh_consortium_anchor_verifies_and_every_forgery_class_is_invalid(
    chain, fresh: tuple[list[Vector], dict[str, bytes]], tmp_path: Path
) -> None:
    vectors, files = fresh
    seen = set()
    for v in vectors:
        text = json.dumps(v.document, ensure_ascii=False)
        if v.file is None:
            verdict = verify(text, chain.rpc_url)
        else:
            path = tmp_path / v.file
            path.write_bytes(files[v.file])
            with path.open("rb") as fh:
                verdict = verify(text, chain.rpc_url, fh)
        assert verdict.outcome.value == v.outcome, (v.name, verdict.reason)
        if v.name in REASONS:
            assert REASONS[v.name] in verdict.reason, verdict.reason
        seen.add(v.name)
        if v.name == "valid":
            endorsed = verdict.facts["endorsement"]
            assert isinstance(endorsed, dict)
            assert {e["organization"] for e in endorsed["endorsed_by"]} == {
                ORGS[a] for a in ORGS if a in {e["member"] for e in endorsed["endorsed_by"]}
            }
            assert REGULATOR.address in {e["member"] for e in endorsed["endorsed_by"]}
    assert set(REASONS) <= seen


def test_a_node_of_another_chain_cannot_decide(
    fresh: tuple[list[Vector], dict[str, bytes]],
) -> None:
    valid = next(v for v in fresh[0] if v.name == "valid-without-file")
    with anvil("--chain-id", "4242") as other:
        verdict = verify(json.dumps(valid.document, ensure_ascii=False), other)
    assert verdict.outcome is Outcome.CANNOT_DECIDE
    assert "serves chain 4242" in verdict.reason


def test_a_node_without_the_registrys_logs_cannot_decide(golden_v2: str) -> None:
    """The published registry emits its configuration when deployed; a node that returns no
    such log (log index pruned or missing) cannot tell who was a member: cannot decide."""
    cert = V2 / "valid-without-file.cert.json"
    with RpcProxy(golden_v2) as proxy:
        proxy.no_logs = True
        verdict = verify(cert.read_bytes(), proxy.url)
        js, _ = _javascript(cert, proxy.url, None)
    assert verdict.outcome is Outcome.CANNOT_DECIDE, verdict.reason
    assert "logs are incomplete" in verdict.reason
    assert js == "cannot_decide"


BUILD_1 = V2 / "build-1"
BUILD_1_INDEX = json.loads((BUILD_1 / "index.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def golden_build_1() -> Iterator[str]:
    with anvil("--chain-id", "31337", "--load-state", str(BUILD_1 / "chain-state.json")) as url:
        yield url


def test_certificates_of_consortium_registry_build_1_keep_their_outcomes(
    golden_build_1: str,
) -> None:
    """The golden vectors made on ConsortiumRegistry build 1 (before the DEPOSITOR role,
    tests/vectors/v2/build-1, unchanged) get the same outcome from both verifiers: a
    version 2 certificate already issued keeps verifying."""
    for vector in BUILD_1_INDEX:
        cert = BUILD_1 / vector["certificate"]
        file = BUILD_1 / vector["file"] if vector["file"] else None
        with file.open("rb") if file else open(os.devnull, "rb") as fh:
            verdict = verify(cert.read_bytes(), golden_build_1, fh if file else None)
        assert verdict.outcome.value == vector["outcome"], (vector, verdict.reason)
        js, _ = _javascript(cert, golden_build_1, file)
        assert js == vector["outcome"], vector
