"""The web verifier: one static HTML page (verify.html, package data) that checks a certificate
in the browser, with the file and a chain node the clerk names, and trusts no server.

The page is built from web/verifier/ (pinned npm packages, esbuild) and committed here, so an
install without Node (the verifier-only package, a court bundle) ships it as it is; the test
suite rebuilds it and compares bytes. It carries its own Content-Security-Policy in a meta tag
(hashes of its one inline script and style, `connect-src *` for the node the clerk types), so
it is as locked down opened from a USB stick as served by the API, which sends the same policy
as a header.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Final

PAGE_NAME: Final = "verify.html"
"""The page's file name, in this package and in every court bundle."""

_POLICY = re.compile(rb'<meta http-equiv="Content-Security-Policy" content="([^"]+)">')


@cache
def verifier_html() -> bytes:
    """The page's bytes, exactly as built (UTF-8 HTML)."""
    return resources.files(__package__).joinpath(PAGE_NAME).read_bytes()


@cache
def content_security_policy() -> str:
    """The page's own policy (its meta tag), plus what only a header can say: no framing."""
    found = _POLICY.search(verifier_html())
    if found is None:
        raise RuntimeError(f"{PAGE_NAME} carries no Content-Security-Policy")  # a broken build
    return found.group(1).decode("ascii") + "; frame-ancestors 'none'"
