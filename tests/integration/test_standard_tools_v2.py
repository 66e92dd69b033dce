"""scripts/verify-with-standard-tools.sh on certificate version 2 (docs/certificate-v2.md).

The script must reach `notary verify`'s verdict: on every golden vector (tests/vectors/v2 on
ConsortiumRegistry build 2, with the depositor signature forgeries, and tests/vectors/v2/build-1
on build 1, each committed chain state loaded read-only) with the same outcome and, for a
forgery, the same reason word for word; on a node without the registry's logs (cannot decide)
and on a node that limits eth_getLogs ranges (smaller windows); and on a consortium anchor
made now on the session devnet (make_vectors' scenario: real endorsements and real depositor
signatures) and tampered copies of its certificates. A valid certificate ends with notary
verify's "Endorsed by k of the n endorsing members …" sentence and its words for who
deposited ("Deposited and signed by …", or that the depositor is the operator's word).
A file of its own (not test_verify_v2.py) so xdist runs these shell runs beside the others.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from notary.ops.devnet import rpc_call
from notary.ops.toolchain import REPO_ROOT
from notary.verify.certificate import Verdict, verify
from notary.verify.wording import depositor_words, endorsed_words, unsigned_words
from tests.integration.test_verify_v2 import (
    BUILD_1,
    BUILD_1_INDEX,
    INDEX,
    OUTCOME_OF_EXIT,
    REASONS,
    V2,
    anvil,
)
from tests.rpc_proxy import RpcProxy
from tests.vectors.v2.make_vectors import Vector, scenario

pytestmark = [pytest.mark.devnet, pytest.mark.node]

SCRIPT = REPO_ROOT / "scripts" / "verify-with-standard-tools.sh"
HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
"""secp256k1's n / 2: a signature with a larger s is the malleable twin."""


@pytest.fixture(scope="module")
def golden_v2() -> Iterator[str]:
    with anvil("--chain-id", "31337", "--load-state", str(V2 / "chain-state.json")) as url:
        yield url


@pytest.fixture(scope="module")
def golden_build_1() -> Iterator[str]:
    with anvil("--chain-id", "31337", "--load-state", str(BUILD_1 / "chain-state.json")) as url:
        yield url


def standard_tools(cert: Path, rpc: str, file: Path | None, **env: str) -> tuple[str, str]:
    """The script's outcome and its last line, the verdict ("VALID: …", "INVALID: …" or
    "CANNOT DECIDE: …", as its exit code says)."""
    done = subprocess.run(
        ["bash", str(SCRIPT), str(cert), str(file) if file else "-", rpc],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **env},
    )
    last = done.stdout.splitlines()[-1] if done.stdout.strip() else ""
    prefix = {0: "VALID: ", 1: "INVALID: ", 2: "CANNOT DECIDE: "}.get(done.returncode, "?")
    assert last.startswith(prefix), done.stdout + done.stderr
    return OUTCOME_OF_EXIT[done.returncode], last


def reference(cert: Path, rpc: str, file: Path | None) -> Verdict:
    """`notary verify`'s verdict (its function, in this process)."""
    if file is None:
        return verify(cert.read_bytes(), rpc)
    with file.open("rb") as fh:
        return verify(cert.read_bytes(), rpc, fh)


def assert_same_words(line: str, verdict: Verdict) -> None:
    """A valid verdict names who endorsed and who deposited (the signer, or the operator's
    word) as notary verify does; any other says its reason."""
    if verdict.outcome.value == "valid":
        endorsed, signed = verdict.facts["endorsement"], verdict.facts["depositor_signature"]
        assert isinstance(endorsed, dict)
        deposited = (
            depositor_words(signed)
            if isinstance(signed, dict)
            else unsigned_words(str(verdict.facts["depositor"]))
        )
        assert line.endswith(f" {endorsed_words(endorsed)} {deposited}"), line
    else:
        assert line == f"INVALID: {verdict.reason}"


def _golden(index: list[dict[str, str]], folder: Path, rpc: str) -> list[str]:
    """Every vector of `index`: the script's outcome is index.json's and notary verify's,
    with notary verify's words; the names of the valid certificates' verdict lines."""
    valid = []
    with ThreadPoolExecutor(2) as pool:  # two shell runs at a time (2 cores)
        runs = []
        for vector in index:
            cert = folder / vector["certificate"]
            file = folder / vector["file"] if vector["file"] else None
            runs.append((vector, cert, file, pool.submit(standard_tools, cert, rpc, file)))
        for vector, cert, file, run in runs:
            name = vector["certificate"].removesuffix(".cert.json")
            want = reference(cert, rpc, file)
            assert want.outcome.value == vector["outcome"], (name, want.reason)
            got, line = run.result()
            assert got == vector["outcome"], (name, vector["why"], line)
            assert_same_words(line, want)
            if name in REASONS:
                assert REASONS[name] in line, line
            if got == "valid":
                valid.append(line)
    return valid


def test_every_golden_v2_vector_gets_notary_verifys_verdict(golden_v2: str) -> None:
    """Build 2: the endorsement forgeries, the depositor signature forgeries (D1: other
    content, stripped; D2: unregistered key, another organization's, removed before the
    anchor, organization renamed), the signed and the unsigned deposit."""
    valid = _golden(INDEX, V2, golden_v2)
    assert sum("Deposited and signed by 杭州童装工作室 (0x" in line for line in valid) == 2
    assert sum("the deposit carries no depositor signature." in line for line in valid) == 1


def test_golden_build_1_vectors_keep_their_verdicts(golden_build_1: str) -> None:
    """Build 1 (before the DEPOSITOR role) stays published: its certificates (unsigned
    deposits) keep their outcomes."""
    valid = _golden(BUILD_1_INDEX, BUILD_1, golden_build_1)
    assert len(valid) == 2
    assert all("the deposit carries no depositor signature." in line for line in valid)


def test_node_faults_no_logs_cannot_decide_and_narrow_log_windows(golden_v2: str) -> None:
    """No configuration logs at all (the published registry emits them when deployed, so the
    node's log index is incomplete): cannot decide. A node refusing eth_getLogs over more than
    2 blocks (E3): the script and notary verify halve each refused window until the node
    answers, and both find the certificate valid, having read every block from 0 to the
    anchor's (the script exactly once). A node that refuses even one block: cannot decide,
    for both."""
    cert = V2 / "valid-without-file.cert.json"
    anchored = json.loads(cert.read_text("utf-8"))["anchor"]["block_number"]
    with RpcProxy(golden_v2) as proxy:
        proxy.no_logs = True
        got, line = standard_tools(cert, proxy.url, None)
        assert got == "cannot_decide" and "logs are incomplete" in line, line
        proxy.no_logs = False
        proxy.max_log_blocks = 2
        for name in ("script", "notary verify"):
            proxy.log_queries.clear()
            if name == "script":
                got, line = standard_tools(cert, proxy.url, None)
            else:
                verdict = reference(cert, proxy.url, None)
                got, line = verdict.outcome.value, verdict.reason
            assert got == "valid", (name, line)
            answered = sorted(q for q in proxy.log_queries if q[1] - q[0] < 2)
            read = [b for low, high in answered for b in range(low, high + 1)]
            if name == "script":  # one query a window
                assert read == list(range(anchored + 1))
            else:  # one a window for each event, and E3 and D2 each replay
                assert set(read) == set(range(anchored + 1))
        proxy.max_log_blocks = 0  # refuses every query, even of one block
        got, line = standard_tools(cert, proxy.url, None)
        assert got == "cannot_decide" and "eth_getLogs" in line, line
        verdict = reference(cert, proxy.url, None)
        assert verdict.outcome.value == "cannot_decide", verdict.reason


def test_notary_verify_replays_the_members_once_for_e3_and_d2(golden_v2: str) -> None:
    """E3 and D2 read the same configuration (the logs before the anchor's Anchored log):
    notary verify scans the chain's configuration events once, one eth_getLogs a window."""
    cert = V2 / "valid.cert.json"
    with RpcProxy(golden_v2) as proxy:
        verdict = reference(cert, proxy.url, V2 / "design.txt")
        assert verdict.outcome.value == "valid", verdict.reason
        assert isinstance(verdict.facts["depositor_signature"], dict)  # D2 ran
        assert len(proxy.log_queries) == 1, proxy.log_queries


def test_depositor_signature_reading_rules_and_d1_forgeries_offline(
    golden_v2: str, tmp_path: Path
) -> None:
    """The golden signed certificate, changed where D1 or the reading rules must catch it
    (before any call to the node): invalid, as notary verify says; for D1 in its words."""
    good = json.loads((V2 / "valid.cert.json").read_text("utf-8"))
    unsigned = json.loads((V2 / "unsigned-deposit.cert.json").read_text("utf-8"))
    signed = good["depositor_signature"]
    court = good["anchor"]["endorsement"]["endorsements"][0]["member"]

    def deposit_signed(**changed: str) -> dict[str, object]:
        return {**good, "depositor_signature": {**signed, **changed}}

    cases: dict[str, tuple[dict[str, object], str | None]] = {  # document, reason's words
        "a signature on a leaf that names no signer": (
            {**unsigned, "depositor_signature": signed},
            "the leaf's depositor names no signer",
        ),
        "v 0": (deposit_signed(signature=signed["signature"][:-2] + "00"), "v must be 27 or 28"),
        "another signer": (deposit_signed(signer=court), "the leaf names 0x"),
        "another organization id": (
            deposit_signed(organization_id="0x" + "11" * 32),
            "is keccak256 of it, 0x",
        ),
        "a field added to depositor_signature": (deposit_signed(extra="x"), None),
        "a field added at the top": ({**good, "extra": 1}, None),
        "signer with a wrong EIP-55 checksum": (
            deposit_signed(signer="0x" + signed["signer"][2:].swapcase()),
            None,
        ),
        "organization of 129 UTF-8 bytes": (deposit_signed(organization="好" * 43), None),
        "signature in upper-case hex": (
            deposit_signed(signature="0x" + signed["signature"][2:].upper()),
            None,
        ),
    }
    with ThreadPoolExecutor(2) as pool:
        runs = {}
        for i, (name, (document, _)) in enumerate(cases.items()):
            path = tmp_path / f"{i}.cert.json"
            path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
            runs[name] = (path, pool.submit(standard_tools, path, golden_v2, None))
        for name, (path, run) in runs.items():
            words = cases[name][1]
            want = reference(path, golden_v2, None)
            got, line = run.result()
            assert (got, want.outcome.value) == ("invalid", "invalid"), (name, line, want.reason)
            if words is not None:  # D1: notary verify's reason; the reading rules: its own
                assert words in line, (name, line)
                assert_same_words(line, want)


@pytest.fixture(scope="module")
def fresh(chain) -> tuple[list[Vector], dict[str, bytes]]:
    """A consortium anchor made now on the session devnet (deploy a 2-of-4
    ConsortiumRegistry, remove an endorser by quorum, endorse, anchor, issue), from fresh
    funded accounts so no other test file shares their nonces."""
    funder, notary = (Account.from_key(secrets.token_bytes(32)) for _ in range(2))
    for account in (funder, notary):
        rpc_call(chain.rpc_url, "anvil_setBalance", [account.address, hex(10**20)])
    return scenario(chain.rpc_url, funder, notary, lambda: None)


def _high_s_twin(signature: str) -> str:
    """The malleable twin (r, n - s, the other v): ecrecover (and cast wallet verify) give
    the same signer, OpenZeppelin's ECDSA refuses it, so must a verifier."""
    raw = bytes.fromhex(signature[2:])
    s = 2 * HALF_N + 1 - int.from_bytes(raw[32:64], "big")
    return "0x" + (raw[:32] + s.to_bytes(32, "big") + bytes([55 - raw[64]])).hex()


def test_a_real_devnet_v2_certificate_verifies_and_tampered_copies_do_not(
    chain, fresh: tuple[list[Vector], dict[str, bytes]], tmp_path: Path
) -> None:
    """The scenario's certificates, anchored now: the deposit signed by the studio's key
    (valid: "Deposited and signed by …"), the unsigned one (valid: the operator's word), and
    the signed one tampered with or signed wrongly (invalid at E2, D1 or D2)."""
    vectors, files = fresh
    made = {v.name: v for v in vectors}
    good = made["valid"].document
    a, signed = good["anchor"], good["depositor_signature"]
    entries = a["endorsement"]["endorsements"]
    studio = f"Deposited and signed by {signed['organization']} ({signed['signer']})."

    def endorsed(by: list[dict[str, str]]) -> dict[str, object]:
        return {**good, "anchor": {**a, "endorsement": {**a["endorsement"], "endorsements": by}}}

    def deposit_signed(**changed: str) -> dict[str, object]:
        return {**good, "depositor_signature": {**signed, **changed}}

    twin = [{**entries[0], "signature": _high_s_twin(entries[0]["signature"])}, *entries[1:]]
    lower: dict[str, Any] = endorsed([{**e, "member": e["member"].lower()} for e in entries])
    lower["depositor_signature"] = {**signed, "signer": signed["signer"].lower()}
    cases = {  # name: (document, file, outcome, what the verdict line must say)
        "valid": (good, "design.txt", "valid", studio),
        "unsigned deposit": (
            made["unsigned-deposit"].document,
            "unsigned.txt",
            "valid",
            "the deposit carries no depositor signature.",
        ),
        "members and signer in lower case (EIP-55 is optional)": (
            lower,
            "design.txt",
            "valid",
            studio,
        ),
        "batch time changed": (
            {**good, "anchor": {**a, "batch_time": a["batch_time"] + 1}},
            "design.txt",
            "invalid",
            "recovers to",
        ),
        "high-s twin of a real endorsement": (
            endorsed(twin),
            "design.txt",
            "invalid",
            "not in the form the registry accepts (low s",
        ),
        "high-s twin of the real depositor signature": (
            deposit_signed(signature=_high_s_twin(signed["signature"])),
            "design.txt",
            "invalid",
            "the depositor signature is not valid: a signature's s must be at most n/2",
        ),
        "the studio key's real signature of other content": (
            made["depositor-signature-over-other-content"].document,
            "design.txt",
            "invalid",
            "the depositor signature recovers to 0x",
        ),
        "a real deposit signed by a key removed before the anchor": (
            made["depositor-key-removed-before-anchor"].document,
            "palette.txt",
            "invalid",
            "was not a DEPOSITOR member of the registry when the batch was anchored in block "
            f"{a['block_number']}: it stopped being one in block ",
        ),
    }
    for name in files:
        (tmp_path / name).write_bytes(files[name])
    with ThreadPoolExecutor(2) as pool:
        runs = {}
        for i, (name, (document, file, _, _)) in enumerate(cases.items()):
            path = tmp_path / f"{i}.cert.json"
            path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
            runs[name] = (path, pool.submit(standard_tools, path, chain.rpc_url, tmp_path / file))
        for name, (path, run) in runs.items():
            _, file, outcome, says = cases[name]
            want = reference(path, chain.rpc_url, tmp_path / file)
            got, line = run.result()
            assert (got, want.outcome.value) == (outcome, outcome), (name, line, want.reason)
            assert says in line, (name, line)
            assert_same_words(line, want)
