"""scripts/verify-with-standard-tools.sh on certificate version 2 (docs/certificate-v2.md).

The script must reach `notary verify`'s verdict: on every golden vector (tests/vectors/v2,
its committed chain state loaded read-only) with the same outcome and, for a forgery, the
same reason word for word; on a node without the registry's logs (cannot decide) and on a
node that limits eth_getLogs ranges (smaller windows); and on a consortium anchor made now on
the session devnet (make_vectors' scenario) and tampered copies of its certificate. A valid
certificate ends with notary verify's "Endorsed by k of the n endorsing members …" sentence.
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

import pytest
from eth_account import Account

from notary.ops.devnet import rpc_call
from notary.ops.toolchain import REPO_ROOT
from notary.verify.certificate import Verdict, verify
from notary.verify.wording import endorsed_words
from tests.integration.test_verify_v2 import INDEX, OUTCOME_OF_EXIT, REASONS, V2, anvil
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
    """A valid verdict names who endorsed as notary verify does; any other says its reason."""
    if verdict.outcome.value == "valid":
        endorsed = verdict.facts["endorsement"]
        assert isinstance(endorsed, dict)
        assert line.endswith(" " + endorsed_words(endorsed)), line
    else:
        assert line == f"INVALID: {verdict.reason}"


def test_every_golden_v2_vector_gets_notary_verifys_verdict(golden_v2: str) -> None:
    with ThreadPoolExecutor(2) as pool:  # two shell runs at a time (2 cores)
        runs = []
        for vector in INDEX:
            cert = V2 / vector["certificate"]
            file = V2 / vector["file"] if vector["file"] else None
            runs.append((vector, cert, file, pool.submit(standard_tools, cert, golden_v2, file)))
        for vector, cert, file, run in runs:
            name = vector["certificate"].removesuffix(".cert.json")
            want = reference(cert, golden_v2, file)
            assert want.outcome.value == vector["outcome"], (name, want.reason)
            got, line = run.result()
            assert got == vector["outcome"], (name, vector["why"], line)
            assert_same_words(line, want)
            if name in REASONS:
                assert REASONS[name] in line, line


def test_node_faults_no_logs_cannot_decide_and_narrow_log_windows(golden_v2: str) -> None:
    """No configuration logs at all (the published registry emits them when deployed, so the
    node's log index is incomplete): cannot decide. A node refusing eth_getLogs over more than
    2 blocks (the default 10,000-block windows would be refused: cannot decide, as any
    unanswered call): with LOG_WINDOW_BLOCKS=2 every block from 0 to the anchor's is read
    once, in windows the node answers, and the certificate is valid."""
    cert = V2 / "valid-without-file.cert.json"
    anchored = json.loads(cert.read_text("utf-8"))["anchor"]["block_number"]
    with RpcProxy(golden_v2) as proxy:
        proxy.no_logs = True
        got, line = standard_tools(cert, proxy.url, None)
        assert got == "cannot_decide" and "logs are incomplete" in line, line
        proxy.no_logs = False
        proxy.max_log_blocks = 2
        got, line = standard_tools(cert, proxy.url, None, LOG_WINDOW_BLOCKS="2")
        assert got == "valid", line
        read = sorted(proxy.log_queries)
    assert [b for low, high in read for b in range(low, high + 1)] == list(range(anchored + 1))
    assert all(high - low < 2 for low, high in read)


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
    vectors, files = fresh
    good = next(v.document for v in vectors if v.name == "valid")
    a = good["anchor"]
    entries = a["endorsement"]["endorsements"]

    def endorsed(by: list[dict[str, str]]) -> dict[str, object]:
        return {**good, "anchor": {**a, "endorsement": {**a["endorsement"], "endorsements": by}}}

    twin = [{**entries[0], "signature": _high_s_twin(entries[0]["signature"])}, *entries[1:]]
    lower = [{**e, "member": e["member"].lower()} for e in entries]  # EIP-55 is optional
    cases = {  # name: (document, outcome, what the verdict line must say)
        "valid": (good, "valid", "Endorsed by 2 of the 3 endorsing members"),
        "members in lower case": (endorsed(lower), "valid", "Endorsed by 2 of the 3"),
        "batch time changed": (
            {**good, "anchor": {**a, "batch_time": a["batch_time"] + 1}},
            "invalid",
            "recovers to",
        ),
        "high-s twin of a real signature": (
            endorsed(twin),
            "invalid",
            "not in the form the registry accepts (low s",
        ),
    }
    file = tmp_path / "design.txt"
    file.write_bytes(files["design.txt"])
    with ThreadPoolExecutor(2) as pool:
        runs = {}
        for i, (name, (document, _, _)) in enumerate(cases.items()):
            path = tmp_path / f"{i}.cert.json"
            path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
            runs[name] = (path, pool.submit(standard_tools, path, chain.rpc_url, file))
        for name, (path, run) in runs.items():
            _, outcome, says = cases[name]
            want = reference(path, chain.rpc_url, file)
            got, line = run.result()
            assert (got, want.outcome.value) == (outcome, outcome), (name, line, want.reason)
            assert says in line, (name, line)
            assert_same_words(line, want)
