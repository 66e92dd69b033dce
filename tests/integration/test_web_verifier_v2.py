"""The web verifier (notary/court/verify.html) on version 2 certificates, in headless Chromium.

Version 2 (docs/certificate-v2.md) adds consortium endorsements and depositor signatures:
the page computes the EIP-712 digests (Endorsement, Deposit), recovers each signature
(secp256k1), replays the registry's membership events over JSON-RPC and reads
endorsementOf, as `notary verify` does. Here the page must reach `notary verify`'s verdict
with the same checks, in the same order, and the same reason word for word, on every golden
version 2 vector (tests/vectors/v2 on registry build 2, tests/vectors/v2/build-1 on build 1,
each on its committed chain state) and on a consortium anchor made now on the session's
devnet (valid signed and unsigned deposits, each forgery class, and tampered copies), and
say in Chinese and English who endorsed and who deposited. Node faults: no logs (cannot
decide) and a node that limits eth_getLogs ranges (the page narrows its windows).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from notary.anchoring.batcher import Batcher, BatchPolicy
from notary.anchoring.pinner import Pinner
from notary.anchoring.proposals import Proposals
from notary.chain import eip712
from notary.chain.artifact import V2_BUILD_1_CODE_HASH, V2_REGISTRY_CODE_HASH
from notary.core import certificate as cert_format
from notary.core.keccak import keccak256
from notary.ipfs.client import KuboRpc
from notary.issue.certificates import certificate
from notary.issue.trees import TreeCache
from notary.ops.devnet import rpc_call
from notary.verify.certificate import Verdict, verify
from notary.verify.wording import depositor_words, endorsed_words, unsigned_words
from tests.api.test_depositor_signatures import (  # the API fixtures (a notary, a key)
    ENDORSERS,
    Notary,
    notary,  # noqa: F401
    studio_key,  # noqa: F401
)
from tests.cdp import Chromium
from tests.conftest import free_port
from tests.integration.test_verify_v2 import INDEX, REASONS, V2, anvil
from tests.integration.test_web_verifier import PAGE, page_verdict
from tests.rpc_proxy import RpcProxy
from tests.vectors.v2.make_vectors import Vector, scenario

pytestmark = [pytest.mark.devnet, pytest.mark.node]

V2_CHECKS = [
    "endorsers distinct",
    "endorsement signatures",
    "endorsers were members",
    "endorsement policy",
    "endorsement quorum",
    "recorded endorsement",
]
"""docs/certificate-v2.md section 6: the checks version 2 adds, in order."""
DEPOSITOR_CHECKS = ["depositor signature", "depositor key registered"]
"""And, for a signed deposit, these two (D1 after E2, D2 after E5)."""
BUILD_1 = V2 / "build-1"
INDEX_BUILD_1 = json.loads((BUILD_1 / "index.json").read_text("utf-8"))

HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
N = 2 * HALF_N + 1  # secp256k1's group order


@pytest.fixture(scope="module")
def golden_v2() -> Iterator[str]:
    with anvil("--chain-id", "31337", "--load-state", str(V2 / "chain-state.json")) as url:
        yield url


@pytest.fixture(scope="module")
def golden_build_1() -> Iterator[str]:
    """The chain of the vectors made on ConsortiumRegistry build 1 (before DEPOSITOR)."""
    with anvil("--chain-id", "31337", "--load-state", str(BUILD_1 / "chain-state.json")) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    chromium = Chromium(tmp_path_factory.mktemp("chromium"), proxy_port=free_port())
    yield chromium
    chromium.close()


def reference(cert: Path, file: Path | None, rpc: str) -> Verdict:
    """`notary verify`'s verdict (its function, in this process)."""
    if file is None:
        return verify(cert.read_bytes(), rpc)
    with file.open("rb") as handle:
        return verify(cert.read_bytes(), rpc, handle)


def ran(verdict: Verdict) -> list[tuple[str, str]]:
    """The reference's checks as the page marks them: pass, fail, or cannot decide. The page
    has one row per check, so a check the reference records several times in a row (D1's
    signer, organization id and recovery) is one row, with its last status."""
    undecided = verdict.outcome.value == "cannot_decide"
    rows: list[tuple[str, str]] = []
    for c in verdict.checks:
        row = (c.name, "pass" if c.passed else "unknown" if undecided else "fail")
        if rows and rows[-1][0] == c.name:
            rows[-1] = row
        else:
            rows.append(row)
    return rows


def page_ran(browser: Chromium) -> list[tuple[str, str]]:
    """The checks the page ran, in its list's order (not reached and no-file rows left out;
    the page's own "certificate" row is step 1, which notary verify does not list)."""
    rows = browser.evaluate(
        "[...document.querySelectorAll('#checks li')].map(li => [li.dataset.check, "
        "li.dataset.status])"
    )
    return [
        (name, status)
        for name, status in rows
        if status in ("pass", "fail", "unknown") and name != "certificate"
    ]


def test_every_v2_vector_gets_notary_verifys_verdict_and_checks(
    browser: Chromium, golden_v2: str, golden_build_1: str
) -> None:
    browser.open(PAGE.as_uri())
    browser.requests.clear()
    runs = [(V2, v, golden_v2) for v in INDEX] + [
        (BUILD_1, v, golden_build_1) for v in INDEX_BUILD_1
    ]
    for folder, vector, node in runs:
        cert = folder / vector["certificate"]
        file = folder / vector["file"] if vector["file"] else None
        want = reference(cert, file, node)
        assert want.outcome.value == vector["outcome"], vector["why"]  # the vectors' statement
        got = page_verdict(browser, None, cert, file, node)
        name = f"{folder.name}/{vector['certificate']}"
        assert got["outcome"] == want.outcome.value, (name, got["reason"], want.reason)
        assert page_ran(browser) == ran(want), name
        assert got["reason"] == want.reason, name  # word for word, as notary verify says it
        stem = vector["certificate"].removesuffix(".cert.json")
        if stem in REASONS:
            assert REASONS[stem] in str(got["reason"])
    # both builds were judged, each on its own chain
    assert len(runs) == len(INDEX) + len(INDEX_BUILD_1) > len(INDEX)
    # from a USB stick, the page talked to nothing but the chain nodes
    assert {u for u in browser.requests if not u.startswith("file:")} == {
        golden_v2 + "/",
        golden_build_1 + "/",
    }


def test_a_valid_v2_certificate_says_who_endorsed_in_chinese_and_english(
    browser: Chromium, golden_v2: str
) -> None:
    cert, file = V2 / "valid.cert.json", V2 / "design.txt"
    got = page_verdict(browser, PAGE.as_uri(), cert, file, golden_v2)
    assert got["outcome"] == "valid", got["reason"]
    checks = got["checks"]
    assert isinstance(checks, dict) and set(checks.values()) == {"pass"}, checks
    assert set(V2_CHECKS) <= set(checks)
    text = str(got["text"])
    facts = reference(cert, file, golden_v2).facts["endorsement"]
    assert isinstance(facts, dict)
    assert endorsed_words(facts, "en") in text  # the CLI's sentence, word for word
    assert endorsed_words(facts, "zh") in text
    anchor = json.loads(cert.read_text("utf-8"))["anchor"]
    for e in anchor["endorsement"]["endorsements"]:
        assert f"organization id {e['organization_id']}, account {e['member']}" in text
        assert f"背书机构“{e['organization']}”：机构标识 {e['organization_id']}" in text
    block = anchor["block_number"]
    assert f"2 of 3 required at block {block} (the anchor's block)" in text
    assert f"第 {block} 号区块（锚定区块）时，3 个背书成员中须有 2 个背书" in text
    assert "their signatures bind the batch (root, leaf count, manifest, batch time)" in text
    # who deposited: the CLI's sentence, then the key, its organization and the block
    signed = reference(cert, file, golden_v2).facts["depositor_signature"]
    assert isinstance(signed, dict)
    assert depositor_words(signed, "en") in text and depositor_words(signed, "zh") in text
    d = json.loads(cert.read_text("utf-8"))["depositor_signature"]
    assert (
        f"Deposited by {d['organization']} (key {d['signer']}), registered for "
        f"{d['organization']} at block {block} (the anchor's block; organization id "
        f"{d['organization_id']}, depositor identity 'org:hz-kids-studio')"
    ) in text
    assert f"{d['organization']}（密钥 {d['signer']}），第 {block} 号区块（锚定区块）时" in text
    assert "When the depositor signed: a signature carries no time." in text
    assert "operator's word" not in text and "notary's word" not in text
    shown = [
        browser.evaluate(f"document.getElementById('{id}').textContent")
        for id in ("published-v2", "published-v2-build-1")
    ]
    assert shown == ["0x" + V2_REGISTRY_CODE_HASH.hex(), "0x" + V2_BUILD_1_CODE_HASH.hex()]


@pytest.mark.parametrize("folder", [V2, BUILD_1], ids=["build-2", "build-1"])
def test_an_unsigned_deposit_is_the_operators_word_in_chinese_and_english(
    browser: Chromium, golden_v2: str, golden_build_1: str, folder: Path
) -> None:
    cert, file = (
        (V2 / "unsigned-deposit.cert.json", V2 / "unsigned.txt")
        if folder == V2
        else (BUILD_1 / "valid.cert.json", BUILD_1 / "design.txt")
    )
    node = golden_v2 if folder == V2 else golden_build_1
    got = page_verdict(browser, PAGE.as_uri(), cert, file, node)
    assert got["outcome"] == "valid", got["reason"]
    checks = got["checks"]
    assert isinstance(checks, dict)
    # D1 and D2 do nothing for an unsigned deposit, and the rows say why
    assert [checks[c] for c in DEPOSITOR_CHECKS] == ["unsigned", "unsigned"]
    assert {checks[c] for c in V2_CHECKS} == {"pass"}
    depositor = json.loads(cert.read_text("utf-8"))["leaf"]["values"][4]
    text = str(got["text"])
    assert unsigned_words(depositor, "en") in text and unsigned_words(depositor, "zh") in text
    assert f"Not signed: the depositor '{depositor}' is only the notary operator's word" in text
    assert "Deposited and signed by" not in text


@pytest.fixture(scope="module")
def fresh(chain) -> tuple[list[Vector], dict[str, bytes]]:
    """A consortium anchor made now on the session devnet (make_vectors' scenario: deploy a
    2-of-4 ConsortiumRegistry, remove an endorser by quorum, endorse, anchor, issue), from
    fresh funded accounts so no other test file shares their nonces."""
    funder, operator = (Account.from_key(secrets.token_bytes(32)) for _ in range(2))
    for account in (funder, operator):
        rpc_call(chain.rpc_url, "anvil_setBalance", [account.address, hex(10**20)])
    return scenario(chain.rpc_url, funder, operator, lambda: None)


def _high_s_twin(signature: str) -> str:
    """The malleable twin (r, n - s, the other v) of a signature: ecrecover gives the same
    signer, OpenZeppelin's ECDSA refuses it, so must a verifier."""
    raw = bytes.fromhex(signature[2:])
    s = N - int.from_bytes(raw[32:64], "big")
    return "0x" + (raw[:32] + s.to_bytes(32, "big") + bytes([55 - raw[64]])).hex()


def test_real_devnet_consortium_certificates_valid_forged_and_tampered(
    browser: Chromium, chain, fresh: tuple[list[Vector], dict[str, bytes]], tmp_path: Path
) -> None:
    vectors, files = fresh
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    cases: list[tuple[str, Path, Path | None, str]] = []

    def case(name: str, document: dict[str, object], file: str | None, outcome: str) -> None:
        path = tmp_path / f"{name}.cert.json"
        path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
        cases.append((name, path, tmp_path / file if file else None, outcome))

    for v in vectors:
        case(v.name, v.document, v.file, v.outcome)
    good = next(v.document for v in vectors if v.name == "valid")
    a = good["anchor"]
    entries = a["endorsement"]["endorsements"]
    later = {**good, "anchor": {**a, "batch_time": a["batch_time"] + 1}}
    case("batch time changed", later, "design.txt", "invalid")
    twin = [{**entries[0], "signature": _high_s_twin(entries[0]["signature"])}, *entries[1:]]
    malleable = {**good, "anchor": {**a, "endorsement": {**a["endorsement"], "endorsements": twin}}}
    case("high-s twin of a real signature", malleable, "design.txt", "invalid")
    one_byte = bytearray(files["design.txt"])
    one_byte[0] ^= 1
    (tmp_path / "changed.txt").write_bytes(bytes(one_byte))
    case("file changed by one byte", good, "changed.txt", "invalid")
    # the depositor signature of the real signed certificate, tampered with (D1's rules)
    signed = good["depositor_signature"]
    assert signed is not None and good["leaf"]["values"][4].endswith(signed["signer"])

    def depositor(name: str, **changed: str) -> None:
        case(name, {**good, "depositor_signature": {**signed, **changed}}, "design.txt", "invalid")

    raw = bytes.fromhex(signed["signature"][2:])
    depositor("depositor signature high-s twin", signature=_high_s_twin(signed["signature"]))
    depositor("depositor signature v 0", signature="0x" + (raw[:64] + bytes([raw[64] - 27])).hex())
    depositor("depositor signature names another signer", signer=a["notary"])
    other_org = "0x" + keccak256(b"org:another-studio").hex()
    depositor("depositor signature of another organization id", organization_id=other_org)
    unsigned = next(v for v in vectors if v.name == "unsigned-deposit")
    grafted = {**unsigned.document, "depositor_signature": signed}
    case("depositor signature grafted on an unsigned leaf", grafted, unsigned.file, "invalid")

    wrong, reasons = [], {}
    browser.open(PAGE.as_uri())
    for name, cert, file, outcome in cases:
        want = reference(cert, file, chain.rpc_url)
        assert want.outcome.value == outcome, (name, want.reason)
        got = page_verdict(browser, None, cert, file, chain.rpc_url)
        reasons[name] = got["reason"]
        if (got["outcome"], page_ran(browser), got["reason"]) != (outcome, ran(want), want.reason):
            wrong.append((name, want.reason, got["reason"]))
    assert wrong == []
    twin_reason = str(reasons["high-s twin of a real signature"])
    assert "not in the form the registry accepts (low s" in twin_reason
    assert "recovers to" in str(reasons["batch time changed"])
    said = {
        "depositor signature high-s twin": "s must be at most n/2",
        "depositor signature v 0": "v must be 27 or 28",
        "depositor signature names another signer": "depositor_signature.signer is",
        "depositor signature of another organization id": "is keccak256 of it",
        "depositor signature grafted on an unsigned leaf": "names no signer",
        "depositor-key-removed-before-anchor": "it stopped being one in block",
        "valid": "this file (design.txt) existed",
    }
    for name, words in said.items():
        assert words in str(reasons[name]), (name, reasons[name])


def test_node_faults_no_logs_cannot_decide_and_a_range_limit_is_worked_around(
    browser: Chromium, golden_v2: str
) -> None:
    cert = V2 / "valid-without-file.cert.json"
    with RpcProxy(golden_v2) as proxy:
        proxy.no_logs = True  # the log index is missing: who was a member cannot be told
        got = page_verdict(browser, PAGE.as_uri(), cert, None, proxy.url)
        want = reference(cert, None, proxy.url)
        assert got["outcome"] == want.outcome.value == "cannot_decide"
        assert page_ran(browser) == ran(want)
        assert "logs are incomplete" in str(got["reason"])
        assert "决定结论的检查项：锚定时均为背书成员" in str(got["text"])

        proxy.no_logs = False
        proxy.max_log_blocks = 2  # as public nodes limit eth_getLogs ranges
        proxy.log_queries.clear()
        got = page_verdict(browser, PAGE.as_uri(), cert, None, proxy.url)
        assert got["outcome"] == "valid", got["reason"]
        anchored = json.loads(cert.read_text("utf-8"))["anchor"]["block_number"]
        answered = sorted(q for q in proxy.log_queries if q[1] - q[0] < 2)
        # the refused windows were narrowed until every block up to the anchor was read once
        assert [b for low, high in answered for b in range(low, high + 1)] == list(
            range(anchored + 1)
        )


def test_a_signed_file_deposit_through_the_notary_api_and_a_swapped_signature(
    browser: Chromium,
    notary: Notary,  # noqa: F811  (the imported fixture)
    studio_key: LocalAccount,  # noqa: F811
    chain,
    tmp_path: Path,
) -> None:
    """The whole service path (tests/api/test_depositor_signatures.py's notary: uvicorn, the
    real IPFS node, SQLite, a 2-of-2 ConsortiumRegistry on the session anvil): the Python
    client signs an upload (over the metadata as the notary records it), the batch is
    endorsed and anchored, and the page accepts the certificate, naming the studio's key;
    with the same key's real signature of other content in its place it does not."""
    design = tmp_path / "连衣裙-网页.png"
    design.write_bytes(b"signed for the web page " + secrets.token_bytes(16))
    with notary.client(signer=studio_key) as client:
        uploaded = client.deposit_file(design, season="2027 春")
        other = client.sign_deposit(hashlib.sha256(b"other content").hexdigest(), None, {})
    assert uploaded["signer"] == studio_key.address
    store = notary.service.factory
    ipfs = KuboRpc(f"http://127.0.0.1:{chain.settings.ipfs_port}")
    batcher = Batcher(store, notary.registry, BatchPolicy(max_leaves=100, interval_seconds=0))
    try:
        batcher.run_once(force=True)
        assert Pinner(store, ipfs, notary.data / "spool").pin_manifests() == 1
    finally:
        ipfs.close()
    batcher.run_once()
    proposals = Proposals(store, notary.registry.reader())
    (proposal,) = proposals.pending()
    batch = eip712.Batch(proposal.root, proposal.leaf_count, proposal.manifest, proposal.batch_time)
    for e in ENDORSERS:
        sig = eip712.sign_endorsement(e, proposals.chain_id(), notary.registry.address, batch)
        proposals.endorse(proposal.root, proposal.batch_time, sig)
    batcher.run_once()
    org = notary.service.authenticate(notary.keys["studio"])
    doc = json.loads(cert_format.dumps(certificate(store, TreeCache(), org, uploaded["id"])))
    assert doc["leaf"]["values"][4] == f"org:studio-org;signer={studio_key.address}"
    swapped = {**doc, "depositor_signature": {**doc["depositor_signature"], "signature": other}}
    browser.open(PAGE.as_uri())
    for name, document, outcome in (("real", doc, "valid"), ("swapped", swapped, "invalid")):
        cert = tmp_path / f"{name}.cert.json"
        cert.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
        want = reference(cert, design, chain.rpc_url)
        got = page_verdict(browser, None, cert, design, chain.rpc_url)
        assert (got["outcome"], got["reason"]) == (outcome, want.reason), name
        assert page_ran(browser) == ran(want), name
    assert "the depositor signature recovers to" in str(got["reason"])
    browser.open(PAGE.as_uri())
    got = page_verdict(browser, None, tmp_path / "real.cert.json", design, chain.rpc_url)
    assert f"Deposited and signed by studio 组织 ({studio_key.address})." in str(got["text"])
