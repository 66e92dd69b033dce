"""The match report printed (Chinese and English), with the court kit's fonts (fpdf2)."""

from __future__ import annotations

import io
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from notary.court.fonts import cjk_font

FONT = "cjk"
MARGIN = 12.0
THUMB_MM = 60.0


def render(report: dict[str, Any], design_png: bytes | None, capture_png: bytes | None) -> bytes:
    """A PDF of `report` (notary.monitor.report) with the two thumbnails when there are.

    ConfigError when no CJK font is installed (notary.court.fonts)."""
    font = cjk_font()
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    pdf.add_font(FONT, "", str(font.path), collection_font_number=font.face)
    pdf.set_title("侵权预警比对报告 Match report")
    pdf.set_creator("evidence-notary")
    pdf.set_lang("zh-CN")
    pdf.add_page()
    pdf.set_font(FONT, size=18)
    pdf.cell(text="侵权预警比对报告", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=12)
    pdf.cell(text=f"Match report {report['alert_id']}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    top = pdf.get_y()
    for n, (label, png) in enumerate((("设计 Design", design_png), ("取证 Capture", capture_png))):
        x = MARGIN + n * (THUMB_MM + 10)
        pdf.set_xy(x, top)
        pdf.set_font(FONT, size=9)
        pdf.cell(text=label)
        if png is not None:
            pdf.image(
                io.BytesIO(png), x=x, y=top + 5, w=THUMB_MM, keep_aspect_ratio=True, h=THUMB_MM
            )
    pdf.set_xy(MARGIN, top + THUMB_MM + 8)
    pdf.set_font(FONT, size=9)
    design, capture = report["design"], report["capture"]
    rows = [
        ("设计 Design", f"{design['evidence_id']}  SHA-256 {design['sha256']}"),
        ("时间 T1", str(design["existed_no_later_than"] or "not anchored yet / 尚未上链")),
        ("取证 Capture", f"{capture['capture_id']}  SHA-256 {capture['sha256']}"),
        ("来源 Source", f"{capture['source_url']}  {capture['shop']}  {capture['price']}"),
        ("取证时间 Captured", str(capture["captured_at"])),
        ("时间 T2", str(capture["existed_no_later_than"] or "not anchored yet / 尚未上链")),
        (
            "距离 Distance",
            f"{report['kind']} {report['distance']}/256 (≤ {report['match_radius']})",
        ),
    ]
    for label, value in rows:
        pdf.multi_cell(0, 4.5, f"{label}: {value}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    for said in report["statements"]:
        pdf.multi_cell(0, 4.5, said["zh"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.multi_cell(0, 4.5, said["en"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
    pdf.multi_cell(0, 4.5, report["verify"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
