"""The PDF certificate (存证证书), read back with poppler and zbar as a stranger would.

`notary certificate pdf` through its real entry point, on the golden certificate (no chain,
no server); the API's certificate.pdf is compared with it in tests/api/test_court_bundle.py.
pdftotext finds the hashes, the Chinese headings, both times; pdffonts shows the CJK font
embedded as a subset; zbarimg decodes the QR code from a rendered page.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notary.config import Settings
from notary.ops.toolchain import REPO_ROOT
from tests.conftest import run_cli

VECTOR = REPO_ROOT / "tests" / "vectors" / "certificate-v1.cert.json"
HEADINGS = (
    "存证证书",
    "存证内容",
    "存证人",
    "存证时间",
    "上链信息",
    "背书",
    "证明什么,不证明什么",
    "如何核验",
)


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[str, object]:
    """The golden certificate printed once, by the command, with a chosen link and id."""
    folder = tmp_path_factory.mktemp("pdf")
    cert = folder / "design.txt.cert.json"
    cert.write_bytes(VECTOR.read_bytes())
    settings = Settings(data_dir=folder / "data")
    result = run_cli(
        settings,
        "certificate",
        "pdf",
        str(cert),
        "--verify-url",
        "https://notary.example.cn/",
        "--id",
        "ev_0123abcd",
    )
    assert result.returncode == 0, result.stderr
    pdf = folder / "design.txt.cert.pdf"  # the name a bundle gives it
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return {"pdf": pdf, "text": text, "document": json.loads(VECTOR.read_text("utf-8"))}


def test_text_holds_hashes_headings_and_both_times(printed) -> None:
    text, document = printed["text"], printed["document"]
    assert isinstance(text, str) and isinstance(document, dict)
    flat = re.sub(r"\s+", "", text)
    for heading in HEADINGS:
        assert heading in flat, heading
    evidence, anchor = document["evidence"], document["anchor"]
    for value in (
        evidence["sha256"],
        evidence["sm3"],
        anchor["root"],
        anchor["tx_hash"],
        anchor["registry"],
        anchor["notary"],
        evidence["metadata"]["name"],
        "ev_0123abcd",
    ):
        assert value.lower() in flat.lower(), value
    moment = datetime.fromtimestamp(anchor["block_time"], UTC)
    beijing = moment + timedelta(hours=8)
    assert moment.strftime("%Y-%m-%d %H:%M:%S UTC") in text
    assert beijing.strftime("%Y-%m-%d %H:%M:%S (UTC+8)") in text
    assert "北京时间" in flat and "不证明" in flat and "does not prove" in text
    assert "a court must check against a node it trusts".replace(" ", "") in flat.lower()


def test_fonts_are_embedded_subsets(printed) -> None:
    report = subprocess.run(
        ["pdffonts", str(printed["pdf"])], capture_output=True, text=True, check=True
    ).stdout
    fonts = report.strip().splitlines()[2:]
    assert fonts, report
    for line in fonts:
        name, *_, emb, sub, uni, _obj, _gen = line.split()
        assert re.fullmatch(r"[A-Z]{6}\+\S+", name), line  # a subset's tagged name
        assert (emb, sub, uni) == ("yes", "yes", "yes"), line
    assert any("CJK" in line for line in fonts), report
    size = Path(str(printed["pdf"])).stat().st_size
    assert size < 200_000, size  # a subset, not the 19 MB collection


def decode_qr(pdf: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    """zbarimg's reading of the QR code on the PDF's first page, rendered at 200 dpi."""
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(pdf), "page"],
        cwd=workdir,
        check=True,
    )
    (page,) = workdir.glob("page*.png")
    return subprocess.run(
        ["zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", str(page)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_qr_code_decodes_to_the_web_verifier_link(printed, tmp_path) -> None:
    decoded = decode_qr(printed["pdf"], tmp_path)
    sha256 = printed["document"]["evidence"]["sha256"]  # type: ignore[index]
    assert decoded.stdout.strip() == (
        f"https://notary.example.cn/verify#id=ev_0123abcd&sha256={sha256}"
    ), decoded.stderr


def test_same_certificate_prints_the_same_bytes(printed, tmp_path) -> None:
    again = tmp_path / "again.pdf"
    result = run_cli(
        Settings(data_dir=tmp_path / "data"),
        "certificate",
        "pdf",
        str(VECTOR),
        "-o",
        str(again),
        "--verify-url",
        "https://notary.example.cn",
        "--id",
        "ev_0123abcd",
    )
    assert result.returncode == 0, result.stderr
    assert again.read_bytes() == Path(str(printed["pdf"])).read_bytes()


def test_bad_certificate_is_one_clear_error(tmp_path) -> None:
    broken = tmp_path / "broken.cert.json"
    broken.write_text('{"format": "evidence-notary-certificate", "version": 1}', "utf-8")
    result = run_cli(Settings(data_dir=tmp_path / "data"), "certificate", "pdf", str(broken))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "broken.cert.json" in result.stderr
    assert not (tmp_path / "broken.cert.pdf").exists()


def test_a_version_2_certificate_prints_its_endorsers(tmp_path) -> None:
    v2 = REPO_ROOT / "tests" / "vectors" / "v2" / "valid.cert.json"
    cert = tmp_path / "design.txt.cert.json"
    cert.write_bytes(v2.read_bytes())
    result = run_cli(Settings(data_dir=tmp_path / "data"), "certificate", "pdf", str(cert))
    assert result.returncode == 0, result.stderr
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "design.txt.cert.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = re.sub(r"\s+", "", text)
    endorsement = json.loads(v2.read_text("utf-8"))["anchor"]["endorsement"]
    for e in endorsement["endorsements"]:
        assert e["organization"] in flat and e["member"].lower() in flat.lower()
    assert "2required" in flat and "carry none" not in text
    signed = json.loads(v2.read_text("utf-8"))["depositor_signature"]
    assert signed["organization"] in flat and signed["signer"].lower() in flat.lower()


def test_a_page_printed_again_is_the_kept_one_and_only_for_the_same_inputs(monkeypatch) -> None:
    """The last pages rendered are kept (a page costs about 1.5 s of CPU): the same
    certificate, link and id give the kept bytes; another link or id is laid out anew, and
    a page laid out from scratch has the kept page's bytes."""
    from notary.core import certificate_v2
    from notary.court import pdf

    cert = certificate_v2.loads(VECTOR.read_bytes())
    first = pdf.render(cert, "https://notary.example.cn/verify#a", "ev_0123abcd")
    assert pdf.render(cert, "https://notary.example.cn/verify#a", "ev_0123abcd") is first
    other_link = pdf.render(cert, "https://notary.example.cn/verify#b", "ev_0123abcd")
    other_id = pdf.render(cert, "https://notary.example.cn/verify#a", "ev_0123abce")
    assert len({first, other_link, other_id}) == 3
    pdf._rendered.clear()
    again = pdf.render(cert, "https://notary.example.cn/verify#a", "ev_0123abcd")
    assert again == first and again is not first
    monkeypatch.setattr(pdf, "RENDERED_KEPT", 2)  # a page takes a second to lay out
    pdf.render(cert, "https://notary.example.cn/verify#b", "ev_0123abcd")
    pdf.render(cert, "https://notary.example.cn/verify#c", "ev_0123abcd")  # drops #a
    assert len(pdf._rendered) == 2
    assert pdf.render(cert, "https://notary.example.cn/verify#a", "ev_0123abcd") is not again


def test_three_endorsers_a_signature_and_a_long_link_fit_one_page(tmp_path) -> None:
    """The page is one A4 sheet with the whole link (a devnet certificate with three
    endorsers ran onto a second page, the link cut in its hash): line heights shrink until
    it fits."""
    document = json.loads((REPO_ROOT / "tests" / "vectors" / "v2" / "valid.cert.json").read_text())
    entries = document["anchor"]["endorsement"]["endorsements"]
    third = dict(entries[-1], member="0x" + "f" * 40, organization="童装行业协会 (devnet)")
    document["anchor"]["endorsement"]["endorsements"] = [*entries, third]
    document["evidence"]["metadata"].update(  # a studio's usual fields, at full length
        title="小熊连衣裙 Bear dress, spring collection, size 90-130, printed cotton",
        tags=["spring", "dresses", "bears", "2026"],
        designer="王小明 Wang Xiaoming",
        season="2026 spring/summer",
        sku="HZ-KIDS-2026-SS-0001",
        collection="Little bears",
    )
    cert = tmp_path / "小熊连衣裙.png.cert.json"
    cert.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    result = run_cli(
        Settings(data_dir=tmp_path / "data"),
        *("certificate", "pdf", str(cert), "--id", "ev_f6c8de653e884937113c2dc7"),
        *("--verify-url", "https://notary.internet-court.example.cn:8443/evidence-notary"),
    )
    assert result.returncode == 0, result.stderr
    pdf = tmp_path / "小熊连衣裙.png.cert.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert re.search(r"^Pages:\s+1$", info.stdout, re.MULTILINE), info.stdout
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = re.sub(r"\s+", "", text)
    assert "sha256=" + document["evidence"]["sha256"].removeprefix("0x") in flat
    assert "童装行业协会(devnet)" in flat
