"""The court bundle as a clerk gets it, the PDF certificate from the API, and `notary verify`
on the extracted bundle (finds the certificate by itself, warns about the devnet, speaks
Chinese).

One deposit, one bundle (module fixture): the tests read it in different ways.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest

from notary.issue.retrieve import content, write_bundle
from notary.ops.toolchain import REPO_ROOT
from tests.api.test_retrieval import deposit_pinned

pytestmark = pytest.mark.devnet
NOTARY = str(Path(sys.executable).parent / "notary")
NAME = "小熊连衣裙 v3.png"
DEV_WARNING = "A court must check against a node it trusts"


def _env(api, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTARY_", "LC_", "LANG"))}
    env.update(NOTARY_API_URL=api.url, NOTARY_API_KEY=api.keys["studio"], **extra)
    return env


@pytest.fixture(scope="module")
def bundle(api, tmp_path_factory) -> dict:
    data = os.urandom(70_000)
    with api.client() as c:
        ev = deposit_pinned(c, NAME, data)
        before = time.time()
        r = c.get(f"/v1/evidence/{ev['id']}/bundle")
        after = time.time()
        pdf = c.get(f"/v1/evidence/{ev['id']}/certificate.pdf")
    assert r.status_code == 200, r.text
    folder = tmp_path_factory.mktemp("bundle")
    (folder / "bundle.zip").write_bytes(r.content)
    court = folder / "court"
    court.mkdir()
    subprocess.run(["unzip", "-q", str(folder / "bundle.zip"), "-d", str(court)], check=True)
    return {
        "ev": ev,
        "data": data,
        "response": r,
        "pdf": pdf,
        "zip": zipfile.ZipFile(io.BytesIO(r.content)),
        "court": court,
        "made": (before, after),
    }


def test_bundle_holds_what_a_clerk_needs(bundle) -> None:
    names = set(bundle["zip"].namelist())
    expected = {
        NAME,
        f"{NAME}.cert.json",
        f"{NAME}.cert.pdf",
        f"{NAME}.car",
        "README.txt",
        "certificate.md",
        "certificate-v2.md",
        "bundle.json",
    }
    assert names == expected | {"verify.html"}
    court = bundle["court"]
    assert (court / NAME).read_bytes() == bundle["data"]
    spec = (REPO_ROOT / "docs" / "certificate.md").read_bytes()
    assert (court / "certificate.md").read_bytes() == spec
    spec_v2 = (REPO_ROOT / "docs" / "certificate-v2.md").read_bytes()
    assert (court / "certificate-v2.md").read_bytes() == spec_v2  # certificate.md links to it
    assert (court / f"{NAME}.cert.pdf").read_bytes() == bundle["pdf"].content
    readme = (court / "README.txt").read_text("utf-8")
    assert f'notary verify "{NAME}"' in readme and "certificate.md" in readme
    assert "verify.html" in readme


def test_members_extract_0644_with_the_time_they_were_made(bundle) -> None:
    before, after = bundle["made"]
    for info in bundle["zip"].infolist():
        assert info.create_system == 3, info.filename
        assert stat.S_IMODE(info.external_attr >> 16) == 0o644, info.filename
        assert stat.S_ISREG(info.external_attr >> 16), info.filename
    for path in bundle["court"].iterdir():  # as unzip left them
        st = path.stat()
        assert stat.S_IMODE(st.st_mode) == 0o644, path.name
        assert before - 1 <= st.st_mtime <= after + 1, (path.name, st.st_mtime, before, after)


def test_api_pdf_is_the_command_s_pdf_of_the_certificate(api, bundle, tmp_path) -> None:
    pdf = bundle["pdf"]
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" + "%E5%B0%8F" in pdf.headers["content-disposition"]
    assert pdf.headers["content-disposition"].endswith(".cert.pdf")
    printed = tmp_path / "printed.pdf"
    result = subprocess.run(
        [
            NOTARY,
            "certificate",
            "pdf",
            str(bundle["court"] / f"{NAME}.cert.json"),
            "-o",
            str(printed),
            "--id",
            bundle["ev"]["id"],
            "--verify-url",
            api.service.settings.public_url,
        ],
        env=_env(api),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert printed.read_bytes() == pdf.content


def test_certificate_pdf_refusals(api, api_paused) -> None:
    with api.client() as c, api.client("copycat") as other:
        ev = c.post("/v1/evidence/hash", json={"sha256": os.urandom(32).hex()}).json()
        r = other.get(f"/v1/evidence/{ev['id']}/certificate.pdf")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    with api_paused.client() as c:
        ev = c.post("/v1/evidence/hash", json={"sha256": os.urandom(32).hex()}).json()
        r = c.get(f"/v1/evidence/{ev['id']}/certificate.pdf")
        assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"


def test_export_saves_under_the_name_the_api_gives(api, bundle, tmp_path) -> None:
    header = bundle["response"].headers["content-disposition"]
    api_name = unquote(header.split("filename*=UTF-8''")[1])
    assert api_name == f"{NAME}.evidence.zip"
    result = subprocess.run(
        [NOTARY, "export", bundle["ev"]["id"]],
        env=_env(api),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == [api_name]
    exported = zipfile.ZipFile(tmp_path / api_name)
    assert set(exported.namelist()) == set(bundle["zip"].namelist())


def test_extras_join_the_bundle_and_cannot_replace_a_member(api, bundle, tmp_path) -> None:
    service = api.service
    org = service.authenticate(api.keys["studio"])
    public_id = bundle["ev"]["id"]

    def write(extras: dict[str, bytes]) -> zipfile.ZipFile:
        file = content(service.factory, org, public_id, service.ipfs, service.spool_dir)
        target = tmp_path / "bundle.zip"
        write_bundle(
            target,
            service.factory,
            service.trees,
            org,
            public_id,
            service.ipfs,
            file,
            service.settings.public_url,
            extras,
        )
        return zipfile.ZipFile(target)

    with write({"access-log.json": b"[]"}) as made:
        assert made.read("access-log.json") == b"[]"
        assert "access-log.json" in made.read("bundle.json").decode("utf-8")
    with pytest.raises(ValueError, match="named twice"):
        write({"README.txt": b"forged"})


def _verify(chain, court: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NOTARY_", "LC_", "LANG"))}
    return subprocess.run(
        [NOTARY, "verify", *args, "--rpc", chain.rpc_url],
        env={**clean, **env},
        cwd=court,
        capture_output=True,
        text=True,
        check=False,
    )


def test_verify_finds_the_certificate_and_warns_about_the_devnet(chain, bundle) -> None:
    valid = _verify(chain, bundle["court"], NAME)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert valid.stdout.startswith("VALID: this file (小熊连衣裙 v3.png)")
    assert "chain 31337 is a local development chain" in valid.stderr
    assert DEV_WARNING in valid.stderr
    assert f"read from the node at {chain.rpc_url}" in valid.stdout
    missing = _verify(chain, bundle["court"], "certificate.md")
    assert missing.returncode == 2 and "certificate.md.cert.json does not exist" in missing.stderr


def test_verify_speaks_chinese_by_flag_or_locale(chain, bundle, tmp_path) -> None:
    by_flag = _verify(chain, bundle["court"], NAME, "--lang", "zh")
    by_locale = _verify(chain, bundle["court"], NAME, LANG="zh_CN.UTF-8")
    for result in (by_flag, by_locale):
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.startswith("有效 VALID: 该文件(小熊连衣裙 v3.png)不晚于")
        assert "北京时间" in result.stdout and "本结果不证明:" in result.stdout
        assert "法院必须使用其信任的节点核验" in result.stderr
    english = _verify(chain, bundle["court"], NAME, "--lang", "en", LANG="zh_CN.UTF-8")
    assert english.stdout.startswith("VALID")
    changed = bytearray(bundle["data"])
    changed[0] ^= 1
    (tmp_path / NAME).write_bytes(bytes(changed))
    (tmp_path / f"{NAME}.cert.json").write_bytes(
        (bundle["court"] / f"{NAME}.cert.json").read_bytes()
    )
    invalid = _verify(chain, tmp_path, NAME, "--lang", "zh")
    assert invalid.returncode == 1
    assert invalid.stdout.startswith("无效 INVALID: 证书、文件与区块链记录相互矛盾")
    assert "失败" in invalid.stdout and "文件 SHA-256" in invalid.stdout


# ---- a clerk with a browser: the bundle alone, or the paper certificate and the file ----


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from tests.cdp import Chromium
    from tests.conftest import free_port

    chromium = Chromium(tmp_path_factory.mktemp("chromium"), proxy_port=free_port())
    yield chromium
    chromium.close()


def test_a_clerk_with_only_the_bundle_and_a_browser(chain, bundle, browser, tmp_path) -> None:
    """The extracted bundle's verify.html, opened from disk (a USB stick), checks the
    bundle's certificate and file on the chain node the clerk types: valid; and a file
    changed by one byte: invalid, as `notary verify` says."""
    from tests.integration.test_web_verifier import page_verdict, reference

    court = bundle["court"]
    page, cert, file = court / "verify.html", court / f"{NAME}.cert.json", court / NAME
    good = page_verdict(browser, page.as_uri(), cert, file, chain.rpc_url)
    assert good["outcome"] == "valid" == reference(cert, file, chain.rpc_url)
    tampered = tmp_path / NAME
    data = bytearray(bundle["data"])
    data[len(data) // 2] ^= 1
    tampered.write_bytes(bytes(data))
    bad = page_verdict(browser, page.as_uri(), cert, tampered, chain.rpc_url)
    assert bad["outcome"] == "invalid" == reference(cert, tampered, chain.rpc_url)


def test_a_clerk_with_the_paper_certificate_follows_its_qr_code(
    api, chain, bundle, browser, tmp_path
) -> None:
    """The QR code printed on the PDF, decoded from a rendered page, opens the web verifier
    of the notary that issued it; the page fetches the certificate by id + SHA-256 (the
    keyless lookup) and checks the clerk's file: valid, and a changed file: invalid.

    The PDF's link starts with NOTARY_PUBLIC_URL (the default here, 127.0.0.1:8000); the
    test server listens elsewhere, so the link's origin is replaced by the server's, as an
    operator would have set NOTARY_PUBLIC_URL to it."""
    from tests.integration.test_court_pdf import decode_qr
    from tests.integration.test_web_verifier import page_verdict

    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(bundle["pdf"].content)
    decoded = decode_qr(pdf, tmp_path)
    link = decoded.stdout.strip()
    ev = bundle["ev"]
    printed_origin = api.service.settings.public_url.rstrip("/")
    assert link == f"{printed_origin}/verify#id={ev['id']}&sha256={ev['sha256']}", decoded
    link = api.url + link[len(printed_origin) :]
    file = bundle["court"] / NAME
    good = page_verdict(browser, link, None, file, chain.rpc_url)
    assert good["outcome"] == "valid", good
    tampered = tmp_path / NAME
    data = bytearray(bundle["data"])
    data[0] ^= 0x80
    tampered.write_bytes(bytes(data))
    bad = page_verdict(browser, link, None, tampered, chain.rpc_url)
    assert bad["outcome"] == "invalid", bad
