"""The PDF certificate (存证证书): a certificate JSON printed for a court, Chinese and English.

Built from the certificate alone (no database, no chain): what was deposited, by whom,
when (UTC and Beijing time), where it is anchored, who endorsed it, what a valid
verification proves and what it does not (notary.verify.wording: the same sentences as
`notary verify`), how to verify it, and a QR code that opens the web verifier for it
(notary.court.qr). The paper proves nothing by itself: it tells a clerk what to check.

The same certificate and link always give the same bytes (the PDF's date is the anchor's
block time, the font subset is named after its content): a PDF can be compared with one
made again from the certificate JSON.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Final

from fpdf import FPDF
from fpdf.enums import Align, WrapMode, XPos, YPos

from notary.core.certificate import Certificate
from notary.core.certificate_v2 import CertificateV2
from notary.court.fonts import Font, cjk_font
from notary.court.qr import modules
from notary.verify.wording import beijing_words, claims, dev_chain_warning, utc_words

FONT: Final = "cjk"
MARGIN: Final = 12.0
"""Page margins (mm)."""
LABEL_WIDTH: Final = 44.0
"""Width of the label column (mm)."""
QR_SIZE: Final = 32.0
"""Side of the QR code (mm); at least 0.5 mm a module for a code of up to 57 modules."""
MAX_SHOWN_CHARS: Final = 300
"""A metadata text longer than this is cut on paper (the certificate JSON has it whole)."""
INK: Final = (20, 40, 90)
"""Colour of headings and rules: a dark blue."""
NONE: Final = "—"
LINES: Final = (3.7, 3.4, 3.1)
"""Line heights of body text (mm) tried in turn until the page fits on one A4 sheet (three
endorsers, long names and a long link take more room)."""
GAP: Final = 5.0
"""Space between the Chinese and the English column (mm)."""


RENDERED_KEPT: Final = 64
"""PDFs kept in memory (about 65 KB each): a page takes about 1.5 s of CPU to lay out."""

_rendered: OrderedDict[bytes, bytes] = OrderedDict()
_rendered_lock = threading.Lock()


def render(cert: Certificate, link: str, evidence_id: str | None = None) -> bytes:
    """The PDF certificate of `cert`, whose QR code opens `link` (notary.court.qr.verify_url).

    The same certificate, link, id and font always give the same bytes, so the last
    RENDERED_KEPT pages are kept and given again: a clerk's second download, or a bundle
    after the PDF, costs nothing. ConfigError when no CJK font is installed
    (notary.court.fonts).
    """
    font = cjk_font()
    key = hashlib.sha256(repr((cert, link, evidence_id, font)).encode("utf-8")).digest()
    with _rendered_lock:
        if key in _rendered:
            _rendered.move_to_end(key)
            return _rendered[key]
    for line in LINES:  # the first line height whose page fits one sheet
        page = _Page(_for_paper(cert), link, evidence_id, font, line)
        pdf = page.build()
        if page.pdf.page_no() == 1:
            break
    with _rendered_lock:
        _rendered[key] = pdf
        while len(_rendered) > RENDERED_KEPT:
            _rendered.popitem(last=False)
    return pdf


def _for_paper(cert: Certificate) -> Certificate:
    """`cert` with every metadata text cut to MAX_SHOWN_CHARS (a name may be 4096
    characters long): the page stays readable, the JSON keeps them whole."""
    metadata = {
        key: _shown(value) if isinstance(value, str) else value
        for key, value in cert.evidence.metadata.items()
    }
    return replace(cert, evidence=replace(cert.evidence, metadata=metadata))


def _shown(value: object) -> str:
    text = NONE if value is None or value == "" else str(value)
    if len(text) > MAX_SHOWN_CHARS:
        return text[:MAX_SHOWN_CHARS] + "… (见 JSON / see the JSON)"
    return text


class _Page:
    def __init__(
        self, cert: Certificate, link: str, evidence_id: str | None, font: Font, line: float
    ) -> None:
        self.cert, self.link, self.evidence_id, self.line = cert, link, evidence_id, line
        pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(auto=True, margin=MARGIN)
        pdf.add_font(FONT, "", str(font.path), collection_font_number=font.face)
        pdf.set_title("存证证书 Certificate of deposit")
        pdf.set_subject(f"SHA-256 {cert.evidence.sha256.hex()}")
        pdf.set_creator("evidence-notary")
        pdf.set_creation_date(datetime.fromtimestamp(cert.anchor.block_time, UTC))
        pdf.set_lang("zh-CN")
        self.pdf = pdf

    @property
    def width(self) -> float:
        return float(self.pdf.epw)

    def build(self) -> bytes:
        self.pdf.add_page()
        self._title()
        self._deposited()
        self._who()
        self._when()
        self._anchored()
        self._endorsed()
        self._proves()
        self._how()
        return bytes(self.pdf.output())

    # -- pieces ------------------------------------------------------------------------

    def _title(self) -> None:
        pdf = self.pdf
        top = pdf.get_y()
        pdf.set_text_color(*INK)
        pdf.set_font(FONT, size=22)
        pdf.cell(text="存证证书", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, size=13)
        pdf.cell(text="Certificate of deposit", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(FONT, size=9)
        pdf.ln(2)
        text_width = self.width - QR_SIZE - 6
        number = self.evidence_id or NONE
        for text, wrap in (
            (f"存证编号 Evidence number: {number}", WrapMode.CHAR),
            ("区块链存证证书(第 1 版格式),任何人可独立核验,无需信任存证平台。", WrapMode.CHAR),
            (
                "An evidence-notary certificate (format version 1): anyone can check it "
                "without trusting the notary.",
                WrapMode.WORD,
            ),
        ):
            pdf.multi_cell(text_width, 4.5, text, align=Align.L, wrapmode=wrap, new_x=XPos.LMARGIN)
        self._qr(pdf.l_margin + self.width - QR_SIZE, top)
        pdf.set_y(max(pdf.get_y(), top + QR_SIZE + 4))

    def _qr(self, x: float, y: float) -> None:
        pdf = self.pdf
        grid = modules(self.link)
        quiet = 2  # modules of white border inside the square (the page is white anyway)
        cell = QR_SIZE / (len(grid) + 2 * quiet)
        pdf.set_fill_color(0, 0, 0)
        for r, row in enumerate(grid):
            c = 0
            while c < len(row):
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < len(row) and row[c]:
                    c += 1
                pdf.rect(
                    x + (start + quiet) * cell,
                    y + (r + quiet) * cell,
                    (c - start) * cell,
                    cell,
                    style="F",
                )
        pdf.link(x, y, QR_SIZE, QR_SIZE, self.link)
        pdf.set_font(FONT, size=6.5)
        pdf.set_xy(x - 8, y + QR_SIZE)
        pdf.multi_cell(QR_SIZE + 8, 3, "扫码核验 Scan to verify", align=Align.C)

    def _heading(self, zh: str, en: str) -> None:
        pdf = self.pdf
        if pdf.get_y() > pdf.h - MARGIN - 30:
            pdf.add_page()
        pdf.ln(1.2)
        pdf.set_text_color(*INK)
        pdf.set_font(FONT, size=10.5)
        pdf.cell(text=f"{zh}  {en}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_draw_color(*INK)
        pdf.set_line_width(0.3)
        pdf.line(pdf.l_margin, pdf.get_y() + 0.5, pdf.l_margin + self.width, pdf.get_y() + 0.5)
        pdf.ln(1.2)
        pdf.set_text_color(0, 0, 0)

    def _rows(self, rows: Sequence[tuple[str, str, object]]) -> None:
        pdf = self.pdf
        for zh, en, value in rows:
            pdf.set_font(FONT, size=8)
            y = pdf.get_y()
            pdf.set_text_color(90, 90, 90)
            pdf.multi_cell(LABEL_WIDTH, self.line, f"{zh} {en}", align=Align.L)
            label_bottom = pdf.get_y()
            pdf.set_text_color(0, 0, 0)
            pdf.set_xy(pdf.l_margin + LABEL_WIDTH, y)
            pdf.multi_cell(
                self.width - LABEL_WIDTH,
                self.line,
                _shown(value),
                align=Align.L,
                wrapmode=WrapMode.CHAR,
            )
            pdf.set_y(max(pdf.get_y(), label_bottom) + 0.4)

    def _beside(self, zh: Sequence[str], en: Sequence[str]) -> None:
        """Chinese on the left, English beside it on the right (both on one page)."""
        pdf = self.pdf
        column = (self.width - GAP) / 2
        columns = (
            (pdf.l_margin, zh, WrapMode.CHAR),
            (pdf.l_margin + column + GAP, en, WrapMode.WORD),
        )

        def height(lines: Sequence[str], wrap: WrapMode) -> float:
            total = 0.0
            for line in lines:
                measured = pdf.multi_cell(
                    column, self.line, line, wrapmode=wrap, dry_run=True, output="HEIGHT"
                )
                assert isinstance(measured, float | int)
                total += measured + 0.6
            return total

        needed = max(height(lines, wrap) for _, lines, wrap in columns)
        if pdf.get_y() + needed > pdf.h - MARGIN:
            pdf.add_page()
        top = pdf.get_y()
        for x, lines, wrap in columns:
            pdf.set_y(top)
            for line in lines:
                pdf.set_x(x)
                pdf.multi_cell(
                    column, self.line, line, align=Align.L, wrapmode=wrap, new_x=XPos.LMARGIN
                )
                pdf.ln(0.6)
        pdf.set_y(top + needed)

    def _deposited(self) -> None:
        ev = self.cert.evidence
        meta = ev.metadata
        size = meta.get("size")
        rows: list[tuple[str, str, object]] = [
            ("文件名", "Name", meta.get("name")),
            ("大小", "Size", f"{size:,} 字节 bytes" if isinstance(size, int) else None),
            ("类型", "Media type", meta.get("media_type")),
            ("SHA-256", "", ev.sha256.hex()),
            ("SM3", "", ev.sm3.hex() if ev.sm3 is not None else None),
            ("IPFS CID", "(unixfs-v1-2025)", meta.get("cid")),
        ]
        if isinstance(meta.get("title"), str):
            rows.insert(1, ("标题", "Title", meta["title"]))
        self._heading("一、存证内容", "What was deposited")
        self._rows(rows)

    def _who(self) -> None:
        self._heading("二、存证人", "Deposited by")
        self._rows(
            [
                ("存证人", "Depositor", self.cert.leaf.depositor),
                ("存证账户", "Notary account", self.cert.anchor.notary),
            ]
        )

    def _when(self) -> None:
        t = self.cert.anchor.block_time
        self._heading("三、存证时间", "When (no later than)")
        self._rows(
            [
                ("协调世界时", "UTC", utc_words(t)),
                ("北京时间", "Beijing time", beijing_words(t)),
            ]
        )
        self.pdf.set_font(FONT, size=7.5)
        self._beside(
            ["该时间为上链区块的时间:文件不晚于此时已经存在。"],
            ["The time of the block holding the anchor: the file existed no later."],
        )

    def _anchored(self) -> None:
        a = self.cert.anchor
        self._heading("四、上链信息", "Where it is anchored")
        self._rows(
            [
                ("链 ID", "Chain id", a.chain_id),
                ("登记合约", "Registry", a.registry),
                ("区块", "Block", f"{a.block_number}  (0x{a.block_hash.hex()})"),
                ("交易", "Transaction", "0x" + a.tx_hash.hex()),
                ("默克尔根", "Merkle root", "0x" + a.root.hex()),
                ("批次", "Anchor", f"#{a.sequence}, {a.leaf_count} 条 leaves"),
            ]
        )
        warning = dev_chain_warning(a.chain_id, "zh")
        if warning is not None:
            self.pdf.set_font(FONT, size=7.5)
            self.pdf.set_text_color(160, 30, 30)
            self._beside([warning], [str(dev_chain_warning(a.chain_id, "en"))])
            self.pdf.set_text_color(0, 0, 0)

    def _endorsed(self) -> None:
        self._heading("五、背书", "Endorsed by")
        self._rows(
            [
                ("背书成员", "Endorsers", _endorsers(self.cert)),
                ("存证人签名", "Depositor signature", _depositor_signature(self.cert)),
            ]
        )

    def _proves(self) -> None:
        zh, en = claims(self.cert, True, "zh"), claims(self.cert, True, "en")
        self._heading("六、证明什么,不证明什么", "What it proves and what it does not")
        self.pdf.set_font(FONT, size=7.5)
        self._beside(
            ["核验结果为“有效”时,证明:", *(f"• {line}" for line in zh.proven)],
            ["A VALID verification proves:", *(f"• {line}" for line in en.proven)],
        )
        self._beside(
            ["它不证明:", *(f"• {line}" for line in zh.not_proven)],
            ["It does not prove:", *(f"• {line}" for line in en.not_proven)],
        )

    def _how(self) -> None:
        a = self.cert.anchor
        self._heading("七、如何核验", "How to verify")
        self.pdf.set_font(FONT, size=7.5)
        self._beside(
            [
                "1. 扫描二维码或打开下方链接,在网页中放入原始文件:网页在浏览器内计算哈希,"
                "并向您选择的区块链节点核验。",
                f"2. 或在命令行:notary verify 文件 -c 证书.cert.json --rpc <链 {a.chain_id} "
                "的节点>",
                "3. 或按规范 docs/certificate.md 第 7 节,用 sha256sum 与 curl 自行核验。",
                "本纸质证书本身不构成证明:以核验结果为准,并须使用您信任的节点。",
            ],
            [
                "1. Scan the QR code or open the link below and drop the file: the page "
                "hashes it in the browser and checks it against a chain node you choose.",
                f"2. Or: notary verify FILE -c FILE.cert.json --rpc <a node of chain {a.chain_id}>",
                "3. Or by hand with sha256sum and curl: docs/certificate.md, section 7.",
                "This paper proves nothing by itself: the verification does, against a node "
                "you trust.",
            ],
        )
        pdf = self.pdf
        pdf.ln(1)
        pdf.set_font(FONT, size=7.5)
        pdf.multi_cell(
            self.width,
            4,
            f"核验链接 Verification link: {self.link}",
            align=Align.L,
            wrapmode=WrapMode.CHAR,
            new_x=XPos.LMARGIN,
        )


def _endorsers(cert: Certificate) -> str:
    """Who endorsed the anchor, as the certificate names them (notary verify checks each
    against the chain: docs/certificate-v2.md). Version 1 certificates carry none."""
    if not isinstance(cert, CertificateV2):
        return f"{NONE}  (第 1 版证书无背书 / version 1 certificates carry none)"
    e = cert.endorsement
    names = "; ".join(f"{x.organization} ({x.member})" for x in e.endorsements)
    return f"{names}  (要求 {e.threshold} 个 / {e.threshold} required)"


def _depositor_signature(cert: Certificate) -> str:
    """Who signed the deposit, as the certificate names them (notary verify checks the
    signature and the key's registration: docs/certificate-v2.md, D1 and D2)."""
    signed = cert.depositor_signature if isinstance(cert, CertificateV2) else None
    if signed is None:
        return (
            f"{NONE}  (存证人身份为存证平台的说法 / the depositor is the notary's word: the "
            "deposit is not signed)"
        )
    return f"{signed.organization} ({signed.signer})  (存证人密钥签名 / signed by its key)"
