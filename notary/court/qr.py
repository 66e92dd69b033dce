"""The link a certificate's QR code opens: the web verifier, told which evidence to expect.

`{public_url}/verify#id=<evidence id>&sha256=<hex>`: the page at /verify (served by the
API, and shipped as verify.html in bundles) reads the fragment, which browsers never send
to a server, so the link reveals nothing of the evidence to whoever serves the page. The
clerk then drops the file; the page hashes it and compares. Without an evidence id (a
certificate JSON alone does not hold one) the link carries the hash only.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlencode

import segno

DEFAULT_PUBLIC_URL: Final = "http://127.0.0.1:8000"
"""Where the web verifier is served unless told otherwise (NOTARY_PUBLIC_URL, --verify-url)."""


def verify_url(public_url: str, sha256: bytes, evidence_id: str | None = None) -> str:
    """The web verifier's address for this evidence."""
    fields = ([("id", evidence_id)] if evidence_id else []) + [("sha256", sha256.hex())]
    return f"{public_url.rstrip('/')}/verify#{urlencode(fields)}"


def modules(text: str) -> list[list[bool]]:
    """The QR code of `text` as rows of dark (True) and light modules, quiet zone excluded.

    Error correction M (15% of the code may be smudged); segno picks the smallest version.
    """
    code = segno.make_qr(text, error="m", boost_error=False)
    return [[bool(cell) for cell in row] for row in code.matrix]
