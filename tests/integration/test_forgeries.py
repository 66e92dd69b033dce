"""Golden forgeries: every vector gets the same outcome from all three verifiers.

tests/vectors/forged/ holds a chain (an anvil state, loaded read-only) and certificates
anchored on it, each forged in one way; index.json says the outcome every verifier must
reach. tests/vectors/invalid/ (malformed documents) is run the same way. The verifiers:
`notary verify` through the real entry point, the independent JavaScript verifier
(tests/js/verify_certificate.js) and scripts/verify-with-standard-tools.sh.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from notary.chain.registry import connect_reader
from notary.errors import DevnetError
from notary.ops.devnet import rpc_call
from notary.ops.toolchain import REPO_ROOT, anvil_binary
from notary.verify.certificate import verify
from tests.conftest import VECTORS, free_port, make_settings, run_cli, run_node
from tests.rpc_proxy import RpcProxy

pytestmark = [pytest.mark.devnet, pytest.mark.node]

FORGED = VECTORS / "forged"
INDEX = json.loads((FORGED / "index.json").read_text("utf-8"))
SCRIPT = REPO_ROOT / "scripts" / "verify-with-standard-tools.sh"
OUTCOME_OF_EXIT = {0: "valid", 1: "invalid", 2: "cannot_decide"}
START_TIMEOUT_SECONDS = 30.0


@contextmanager
def golden_anvil() -> Iterator[str]:
    """anvil on the committed state: the chain the forged vectors were anchored on."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    anvil = subprocess.Popen(
        [
            *(str(anvil_binary()), "--port", str(port), "--chain-id", "31337"),
            *("--load-state", str(FORGED / "chain-state.json")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(url, anvil)
        yield url
    finally:
        anvil.terminate()
        anvil.wait(30)


@pytest.fixture(scope="module")
def golden_chain() -> Iterator[str]:
    with golden_anvil() as url:
        yield url


def _wait_for(url: str, anvil: subprocess.Popen[bytes]) -> None:
    import time

    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            rpc_call(url, "eth_chainId")
            return
        except DevnetError:
            if anvil.poll() is not None or time.monotonic() > deadline:
                raise
        time.sleep(0.05)  # polling with a deadline: anvil answers within a second


def outcomes(
    cert: Path, file: Path | None, rpc: str, tmp_path: Path, *, cli: bool = True
) -> dict[str, str]:
    """The outcome each verifier reaches on (cert, file).

    `cli=False` runs `notary verify`'s function in this process instead of its entry
    point (the same code; it saves two seconds of imports per vector on documents that
    are refused while being read).
    """
    settings = make_settings(tmp_path)

    def reference() -> str:
        if not cli:
            return verify(cert.read_bytes(), rpc).outcome.value
        args = ["verify", "-c", str(cert), "--rpc", rpc] + (["-f", str(file)] if file else [])
        return OUTCOME_OF_EXIT[run_cli(settings, *args).returncode]

    def javascript() -> str:
        done = run_node(
            "verify_certificate.js", str(cert), rpc, *([str(file)] if file else []), check=False
        )
        outcome = str(json.loads(done.stdout)["outcome"])
        assert "verifier error" not in done.stdout, done.stdout  # a bug, not a verdict
        assert OUTCOME_OF_EXIT[done.returncode] == outcome, done.stdout
        return outcome

    def standard_tools() -> str:
        done = subprocess.run(
            ["bash", str(SCRIPT), str(cert), str(file) if file else "-", rpc],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode == 0:
            assert done.stdout.splitlines()[-1].startswith("VALID: "), done.stdout
        else:
            assert "\nVALID" not in "\n" + done.stdout and "All checks passed" not in done.stdout
        return OUTCOME_OF_EXIT[done.returncode]

    with ThreadPoolExecutor(3) as pool:
        runs = {
            name: pool.submit(f)
            for name, f in [
                ("notary verify", reference),
                ("javascript", javascript),
                ("standard tools", standard_tools),
            ]
        }
        return {name: run.result() for name, run in runs.items()}


@pytest.mark.parametrize("vector", INDEX, ids=lambda v: v["certificate"].removesuffix(".cert.json"))
def test_forged_vector_gets_the_same_outcome_from_every_verifier(
    golden_chain: str, vector: dict[str, str], tmp_path: Path
) -> None:
    file = FORGED / vector["file"] if vector["file"] else None
    got = outcomes(FORGED / vector["certificate"], file, golden_chain, tmp_path)
    assert got == dict.fromkeys(got, vector["outcome"]), vector["why"]


@pytest.mark.parametrize(
    "path", sorted((VECTORS / "invalid").glob("*.cert.json")), ids=lambda p: p.name
)
def test_malformed_vector_gets_the_same_outcome_from_every_verifier(
    golden_chain: str, path: Path, tmp_path: Path
) -> None:
    expected = "cannot_decide" if path.name.startswith("future-") else "invalid"
    got = outcomes(path, None, golden_chain, tmp_path, cli=False)
    assert got == dict.fromkeys(got, expected)


def test_certificate_over_one_mebibyte_is_refused_unread_by_every_verifier(
    golden_chain: str, tmp_path: Path
) -> None:
    big = tmp_path / "big.cert.json"
    good = (FORGED / "valid.cert.json").read_text("utf-8")
    big.write_text(good[:-2] + " " * (1024 * 1024) + "}\n", "utf-8")  # valid JSON, too large
    got = outcomes(big, None, golden_chain, tmp_path)
    assert got == dict.fromkeys(got, "cannot_decide")


def test_the_cli_says_why_it_did_not_read_a_deep_certificate(
    golden_chain: str, tmp_path: Path
) -> None:
    done = run_cli(
        make_settings(tmp_path),
        "verify",
        "-c",
        str(FORGED / "unclosed-deep.cert.json"),
        "--rpc",
        golden_chain,
    )
    assert done.returncode == 2
    assert "deeper than 64 levels" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_forged_chain_is_the_one_the_vectors_name(golden_chain: str) -> None:
    good = json.loads((FORGED / "valid.cert.json").read_text("utf-8"))
    block = rpc_call(
        golden_chain, "eth_getBlockByNumber", [hex(good["anchor"]["block_number"]), False]
    )
    assert isinstance(block, dict) and block["hash"] == good["anchor"]["block_hash"]


def test_a_node_behind_the_anchor_cannot_decide_with_every_verifier(
    chain, stamped, tmp_path: Path
) -> None:
    """A real certificate on a node that has not reached its block: not invalid."""
    cert, file = stamped.certificates[0], stamped.files[0]
    anchor = json.loads(cert.read_text("utf-8"))["anchor"]
    block = anchor["block_number"]
    with RpcProxy(chain.rpc_url) as proxy:
        proxy.behind = block - 1
        url = proxy.url
        registry = connect_reader(url, anchor["registry"], retries=False)
        root = bytes.fromhex(anchor["root"][2:])
        assert registry.anchor_of(root).sequence == 0  # truly behind: no anchor there yet
        got = outcomes(cert, file, url, tmp_path)
        reason = verify(cert.read_bytes(), url).reason
    assert got == dict.fromkeys(got, "cannot_decide")
    assert reason == (
        f"the node at {url} is at block {block - 1}, behind the anchor's block {block}: "
        "wait until it has synced, or ask another node"
    )
    with RpcProxy(chain.rpc_url) as proxy:
        proxy.behind = block  # a node that has just reached it
        got = outcomes(cert, file, proxy.url, tmp_path)
    assert got == dict.fromkeys(got, "valid")
