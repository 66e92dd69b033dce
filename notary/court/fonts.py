"""Where the CJK font of the PDF certificate is found.

The certificate is printed in Noto Sans CJK SC, the font Debian ships as `fonts-noto-cjk`
(scripts/setup and scripts/test install it). It is an OpenType collection (.ttc) with CFF
outlines: fpdf2 reads it (reportlab refuses CFF outlines) and embeds only the glyphs a
certificate uses, so a PDF is about 40 KB, not 19 MB. NOTARY_PDF_FONT names another
OpenType/TrueType file (or collection: its Simplified Chinese face is taken if it has one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from notary.errors import ConfigError

CANDIDATES: Final = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),  # Debian, Ubuntu
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),  # Fedora, Arch
    Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),
    Path("/System/Library/Fonts/PingFang.ttc"),  # macOS
)
"""Places a CJK font is looked for, in order."""

SC_FACE: Final = 2
"""Index of "Noto Sans CJK SC" (Simplified Chinese) in NotoSansCJK-Regular.ttc (0 JP, 1 KR,
2 SC, 3 TC, 4 HK)."""

ENV: Final = "NOTARY_PDF_FONT"


@dataclass(frozen=True)
class Font:
    path: Path
    face: int


def cjk_font() -> Font:
    """The font to print certificates with; ConfigError (not_configured) naming what to
    install when there is none."""
    named = os.environ.get(ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"{ENV}={named} is not a file")
        return Font(path, _face(path))
    for path in CANDIDATES:
        if path.is_file():
            return Font(path, _face(path))
    raise ConfigError(
        "PDF certificates need a CJK font: install Debian's fonts-noto-cjk "
        f"(apt-get install fonts-noto-cjk) or set {ENV} to an OpenType font file"
    )


def _face(path: Path) -> int:
    """The Simplified Chinese face of a Noto CJK collection, else the first."""
    return SC_FACE if path.name.startswith("NotoSansCJK") and path.suffix == ".ttc" else 0
