"""`GET /verify`: the web verifier page (notary/court/verify.html), for clerks with a browser.

A static page: no key, no service, no database. A certificate's QR code opens
`{public_url}/verify#id=...&sha256=...`; the page then fetches that certificate from
`/v1/public/certificates/{id}?sha256=...` on this origin and checks it like any other.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from notary.court.verifier import content_security_policy, verifier_html

router = APIRouter(tags=["web"])

VERIFY_URL = "/verify"


@router.get(VERIFY_URL, include_in_schema=False)
def verify_page() -> Response:
    """The page, with its Content-Security-Policy as a header (it also carries it inline)."""
    return Response(
        verifier_html(),
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": content_security_policy(),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )
