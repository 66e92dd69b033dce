"""The web verifier (notary/court/verify.html) in real headless Chromium.

A clerk's two ways in: the page opened from a USB stick (file://, the court bundle's
verify.html) and the page served by the API at /verify (the certificate's QR link). In both,
the files are given to its `<input type=file>` as the file picker does, and the verdict it
shows must be `notary verify`'s on every golden vector and on real devnet certificates, valid
and tampered (version 2 certificates: tests/integration/test_web_verifier_v2.py). One browser
serves the whole module; every host but this machine is unreachable, and the requests the
page makes are recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from fastapi import HTTPException

from api.main import create_app
from notary.config import Settings
from notary.core.jsontext import JsonInputError
from notary.court.verifier import content_security_policy, verifier_html
from notary.ops.toolchain import REPO_ROOT
from notary.verify.certificate import verify
from tests.cdp import Chromium
from tests.conftest import VECTORS, free_port
from tests.integration.test_forgeries import FORGED, INDEX, golden_anvil

pytestmark = [pytest.mark.devnet, pytest.mark.node]

PAGE = REPO_ROOT / "notary" / "court" / "verify.html"
WEB = REPO_ROOT / "web" / "verifier"
LARGE_MIB = int(os.environ.get("NOTARY_WEB_LARGE_MIB", "32"))
"""Size of the file hashed in the browser by the streaming test (1024 checks 1 GiB by hand)."""


@pytest.fixture(scope="module")
def golden_node() -> Iterator[str]:
    """anvil on the golden vectors' chain state (as tests/integration/test_forgeries.py)."""
    with golden_anvil() as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    chromium = Chromium(tmp_path_factory.mktemp("chromium"), proxy_port=free_port())
    yield chromium
    chromium.close()


def reference(cert: Path, file: Path | None, rpc: str) -> str:
    """`notary verify`'s outcome (its function, in this process)."""
    try:
        if file is None:
            return verify(cert.read_bytes(), rpc).outcome.value
        with file.open("rb") as handle:
            return verify(cert.read_bytes(), rpc, handle).outcome.value
    except JsonInputError:
        return "cannot_decide"  # refused unread: the CLI says "cannot decide" and exits 2


def page_verdict(
    browser: Chromium, page: str | None, cert: Path | None, file: Path | None, rpc: str
) -> dict[str, object]:
    """Give the page the certificate (unless it fetched one) and the file, and verify.

    `page`: open it afresh; None: reuse the open page, as a clerk checking one certificate
    after another does (both choices are cleared first).
    """
    if page is not None:
        browser.open("about:blank")
        browser.open(page)
    else:
        browser.evaluate(
            "for (const id of ['certificate', 'file']) { const input = document.getElementById(id);"
            " input.value = ''; input.dispatchEvent(new Event('change')); }"
        )
        browser.wait_for("document.getElementById('verify').disabled")
    if cert is not None:
        browser.set_files("#certificate", cert)
    browser.wait_for("document.getElementById('certificate-status').className === 'note ok'")
    if file is not None:
        browser.set_files("#file", file)
    browser.evaluate(f"document.getElementById('rpc').value = {json.dumps(rpc)}")
    browser.wait_for("!document.getElementById('verify').disabled")
    browser.evaluate("document.getElementById('verify').click()")
    outcome = browser.wait_for("document.getElementById('verdict').dataset.outcome", 300)
    checks = browser.evaluate(
        "[...document.querySelectorAll('#checks li')].map(li => [li.dataset.check, "
        "li.dataset.status])"
    )
    return {
        "outcome": outcome,
        "checks": dict(checks),
        "reason": browser.evaluate("document.getElementById('reason').textContent"),
        "text": browser.evaluate("document.getElementById('verdict').innerText"),
        "file": browser.evaluate("document.getElementById('file-status').textContent"),
    }


def test_the_committed_page_is_rebuilt_byte_for_byte(tmp_path: Path) -> None:
    """verify.html is what web/verifier builds from the pinned packages (scripts/setup
    installs them): no hand edit, no other package version."""
    assert (WEB / "node_modules" / "esbuild").is_dir(), "run scripts/setup (npm packages)"
    out = tmp_path / "verify.html"
    subprocess.run(["node", str(WEB / "build.mjs"), str(out)], check=True, capture_output=True)
    assert out.read_bytes() == PAGE.read_bytes() == verifier_html()


def test_names_that_are_not_utf8_read_as_notary_verify_reads_them(tmp_path: Path) -> None:
    """The page reads a member name's bytes as Python's surrogateescape decoding does (E3:
    names compare as bytes; one that is not UTF-8 equals no certificate string), so its
    reasons quote such a name as notary verify does."""
    samples = [
        b"",
        "杭州互联网法院".encode(),
        b"\xef\xbb\xbfBOM kept",
        b"\xff\xfe court \xe4\xb8",  # invalid bytes, then a cut-off character
        b"\xe4\xb8A",  # a sequence cut short by ASCII
        b"\xed\xa0\x80 surrogate in UTF-8",  # not valid UTF-8
        b"\xc0\xaf overlong",
        b"\xf4\x90\x80\x80 beyond U+10FFFF",
        b"\xf0\x9f\x98\x80 emoji \x80",
    ]
    script = tmp_path / "names.mjs"
    read_js = json.dumps((WEB / "src" / "read.js").as_uri())
    script.write_text(
        # the build's constants (facts.js) are not needed here: empty stand-ins
        "for (const name of ['ANCHORED_SIGNATURE', 'CONFIG_EVENT_SIGNATURES', "
        "'LATER_THAN_UNICODE_14', 'PUBLISHED_CODE_HASHES', 'PUBLISHED_CODE_HASHES_V2']) "
        "globalThis['NOTARY_' + name] = name === 'LATER_THAN_UNICODE_14' ? [] : {};\n"
        f"const {{ fromHex, pyRepr, utf8Escaped }} = await import({read_js});\n"
        f"for (const h of {json.dumps([s.hex() for s in samples])}) "
        "console.log(JSON.stringify(pyRepr(utf8Escaped(fromHex(h)))));\n",
        "utf-8",
    )
    done = subprocess.run(["node", str(script)], check=True, capture_output=True, text=True)
    got = [json.loads(line) for line in done.stdout.splitlines()]
    assert got == [repr(s.decode("utf-8", "surrogateescape")) for s in samples]


def test_every_golden_vector_gets_notary_verifys_verdict_from_a_usb_stick(
    browser: Chromium, golden_node: str, tmp_path: Path
) -> None:
    page = PAGE.as_uri()
    browser.requests.clear()
    big = tmp_path / "big.cert.json"  # valid JSON over 1 MiB: refused unread
    good = (FORGED / "valid.cert.json").read_text("utf-8")
    big.write_text(good[:-2] + " " * (1024 * 1024) + "}\n", "utf-8")
    cases = [
        (FORGED / v["certificate"], FORGED / v["file"] if v["file"] else None, v["outcome"])
        for v in INDEX
    ] + [
        (p, None, "cannot_decide" if p.name.startswith("future-") else "invalid")
        for p in sorted((VECTORS / "invalid").glob("*.cert.json"))
    ]
    cases.append((big, None, "cannot_decide"))
    wrong = []
    browser.open(page)
    for cert, file, expected in cases:
        want = reference(cert, file, golden_node)
        assert want == expected, cert.name  # the vectors' own statement
        got = page_verdict(browser, None, cert, file, golden_node)
        if got["outcome"] != want:
            wrong.append((cert.name, want, got))
    assert wrong == []
    # the USB stick page talked to nothing but the chain node (and loaded itself)
    assert {u for u in browser.requests if not u.startswith("file:")} == {golden_node + "/"}


def test_a_valid_vector_shows_each_check_and_the_honest_wording(
    browser: Chromium, golden_node: str
) -> None:
    got = page_verdict(
        browser, PAGE.as_uri(), FORGED / "valid.cert.json", FORGED / "design.txt", golden_node
    )
    assert got["outcome"] == "valid"
    checks = got["checks"]
    assert isinstance(checks, dict) and set(checks.values()) == {"pass"}, checks
    assert {"file sha256", "file sm3", "merkle proof", "registry code", "event fields"} <= set(
        checks
    )
    text = str(got["text"])
    anchor = json.loads((FORGED / "valid.cert.json").read_text("utf-8"))["anchor"]
    when = anchor["block_time_utc"].replace("T", " ").replace("Z", " UTC")
    assert f"existed, unchanged, no later than {when}" in text
    assert "结论：有效" in text and "Verdict: VALID" in text
    assert "不证明什么" in text and "it may be older than the anchor, never newer" in text
    assert "a court must check against a node it trusts" in text  # chain id 31337
    beijing = datetime.fromtimestamp(anchor["block_time"], timezone(timedelta(hours=8)))
    assert f"北京时间 {beijing:%Y-%m-%d %H:%M:%S}" in text

    tampered = page_verdict(
        browser, PAGE.as_uri(), FORGED / "valid.cert.json", FORGED / "copy.txt", golden_node
    )
    assert tampered["outcome"] == "invalid"
    assert tampered["checks"] == {**checks, "file sha256": "fail"} | {
        name: "skipped" for name in checks if name not in ("certificate", "file sha256")
    }
    assert "结论：无效" in str(tampered["text"])
    assert "决定结论的检查项：文件 SHA-256" in str(tampered["text"])


def test_real_devnet_certificates_valid_and_tampered(
    browser: Chromium, chain, stamped, golden_node: str, tmp_path: Path
) -> None:
    cert, file = stamped.certificates[1], stamped.files[1]
    doc = json.loads(cert.read_text("utf-8"))
    one_byte = tmp_path / file.name
    data = bytearray(file.read_bytes())
    data[0] ^= 1
    one_byte.write_bytes(bytes(data))
    proof = tmp_path / "proof.cert.json"
    sibling = doc["proof"][0]
    proof.write_text(
        json.dumps({**doc, "proof": [sibling[:-1] + ("0" if sibling[-1] != "0" else "1")]}),
        "utf-8",
    )
    other_id = tmp_path / "chain-id.cert.json"
    other_id.write_text(json.dumps({**doc, "anchor": {**doc["anchor"], "chain_id": 1}}), "utf-8")
    cases = [
        ("valid", cert, file, chain.rpc_url),
        ("file changed by one byte", cert, one_byte, chain.rpc_url),
        ("proof changed", proof, file, chain.rpc_url),
        ("certificate names another chain", other_id, file, chain.rpc_url),
        ("another chain's node (same chain id)", cert, file, golden_node),
        ("no node there", cert, file, f"http://127.0.0.1:{free_port()}"),
    ]
    got = {
        name: page_verdict(browser, PAGE.as_uri(), c, f, rpc)["outcome"]
        for name, c, f, rpc in cases
    }
    want = {name: reference(c, f, rpc) for name, c, f, rpc in cases}
    assert got == want
    # Another chain's node never makes it valid. Whether it says invalid (a registry at that
    # address without this root) or cannot decide (no such block there yet) depends on how
    # far the session's devnet had gone when the certificate was made: both verifiers agree.
    elsewhere = want.pop("another chain's node (same chain id)")
    assert elsewhere in ("invalid", "cannot_decide")
    assert want == {
        "valid": "valid",
        "file changed by one byte": "invalid",
        "proof changed": "invalid",
        "certificate names another chain": "cannot_decide",
        "no node there": "cannot_decide",
    }


def test_hashes_a_large_file_in_the_browser_and_the_sm3_standards_examples(
    browser: Chromium, golden_node: str, tmp_path: Path
) -> None:
    """SHA-256 and SM3 streamed in chunks: a LARGE_MIB file (NOTARY_WEB_LARGE_MIB) and the two
    examples of GB/T 32905-2016, against OpenSSL's SM3 (hashlib)."""
    cert = FORGED / "valid.cert.json"
    large = tmp_path / "large.bin"
    block = os.urandom(1024 * 1024 - 3)  # not a multiple of the page's chunk or of 64
    sha, sm3 = hashlib.sha256(), hashlib.new("sm3")
    with large.open("wb") as out:
        for _ in range(LARGE_MIB):
            out.write(block)
            sha.update(block)
            sm3.update(block)
    examples = {
        b"abc": "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
        b"abcd" * 16: "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732",
    }
    for data, expected in examples.items():
        small = tmp_path / "example.bin"
        small.write_bytes(data)
        shown = page_verdict(browser, PAGE.as_uri(), cert, small, golden_node)["file"]
        assert f"SM3 {expected}" in str(shown)
        assert f"SHA-256 {hashlib.sha256(data).hexdigest()}" in str(shown)
    got = page_verdict(browser, PAGE.as_uri(), cert, large, golden_node)
    assert got["outcome"] == "invalid" and got["checks"]["file sha256"] == "fail"  # type: ignore[index]
    assert f"SHA-256 {sha.hexdigest()}, SM3 {sm3.hexdigest()}" in str(got["file"])


# ---- served by the API: /verify and the QR link ----

LOOKUP_CERT = FORGED / "valid.cert.json"
LOOKUP_ID = "ev_qrlinktest"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API app on a real uvicorn server (no lifespan: /verify needs no service).

    The keyless lookup `/v1/public/certificates/{id}?sha256=` is another part of the court
    kit, which needs a deposit in a database; here a stand-in with its contract (the
    certificate when both id and hash match, 404 otherwise), put first so it answers even
    where the real route exists, serves one golden certificate: the page's side of the QR
    flow is tested end to end, the real lookup by its own tests.
    """
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("web")), start_batcher=False)
    body = LOOKUP_CERT.read_bytes()
    sha = json.loads(body)["evidence"]["sha256"]

    @app.get("/v1/public/certificates/{evidence_id}")
    def lookup(evidence_id: str, sha256: str = "") -> object:
        if evidence_id != LOOKUP_ID or sha256 != sha:
            raise HTTPException(404)
        return json.loads(body)

    app.router.routes.insert(0, app.router.routes.pop())  # before any real lookup route

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def test_the_api_serves_the_page_locked_down(served: str) -> None:
    answer = httpx.get(served + "/verify")
    assert answer.status_code == 200
    assert answer.content == PAGE.read_bytes()
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    policy = answer.headers["content-security-policy"]
    assert policy == content_security_policy()
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'" and directives["connect-src"] == "*"
    assert directives["script-src"].startswith("'sha256-")  # its own inline script only
    assert directives["frame-ancestors"] == "'none'"
    assert "/verify" not in httpx.get(served + "/openapi.json").json()["paths"]


def test_the_qr_link_fetches_the_certificate_and_checks_the_dropped_file(
    browser: Chromium, served: str, golden_node: str
) -> None:
    sha = json.loads(LOOKUP_CERT.read_text("utf-8"))["evidence"]["sha256"]
    link = f"{served}/verify#id={LOOKUP_ID}&sha256={sha}"
    browser.requests.clear()
    good = page_verdict(browser, link, None, FORGED / "design.txt", golden_node)
    assert good["outcome"] == "valid"
    assert "not trusted any more than a dropped one" in browser.evaluate(
        "document.getElementById('certificate-status').textContent"
    )
    bad = page_verdict(browser, link, None, FORGED / "copy.txt", golden_node)
    assert bad["outcome"] == reference(LOOKUP_CERT, FORGED / "copy.txt", golden_node)
    assert bad["outcome"] == "invalid"
    hosts = {urlsplit(u).netloc for u in browser.requests if u != "about:blank"}
    assert hosts == {urlsplit(served).netloc, urlsplit(golden_node).netloc}

    browser.open("about:blank")
    browser.open(f"{served}/verify#id={LOOKUP_ID}&sha256={'0' * 64}")  # wrong hash: 404
    status = browser.wait_for(
        "document.getElementById('certificate-status').className === 'note bad' && "
        "document.getElementById('certificate-status').textContent"
    )
    assert "HTTP 404" in status and "Drop the certificate file instead" in status
    assert browser.evaluate("document.getElementById('verify').disabled") is True
