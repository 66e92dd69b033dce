"""Content-Disposition for downloads (RFC 6266), with the name encoded per RFC 8187/5987.

A deposit's name is any text the metadata spec allows: up to 4096 characters, tab and
newline included. Put raw into a header, a newline ended the header (the server dropped
the connection) and a quote or semicolon changed its meaning. The header therefore
carries the name made safe for a file system (notary.issue.retrieve.safe_name: no control or
format characters, no path separators or characters Windows refuses, at most
MAX_NAME_BYTES of UTF-8), then the download's suffix, twice:

- ``filename*=UTF-8''...``: percent-encoded, which current browsers and HTTP clients read
  in preference to the other;
- ``filename="..."``: an ASCII fallback for older clients, in which every character that
  is not printable ASCII, or that a naive parser could misread (quote, backslash,
  percent, semicolon, comma), is ``_``.

The full name is in the certificate; this is only the name a download is saved under.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

from notary.issue.retrieve import safe_name

ATTR_CHARS: Final = "!#$&+-.^_`|~"
"""Punctuation that RFC 8187's attr-char allows unencoded (letters and digits too)."""
_UNSAFE_ASCII: Final = frozenset('"\\%;,')


def download_name(name: str, suffix: str = "") -> str:
    """The file name a download of `name` is saved under."""
    return safe_name(name) + suffix


def ascii_fallback(name: str) -> str:
    """`name` with every character that is not safe in a quoted ASCII filename as `_`."""
    return "".join(ch if " " <= ch <= "~" and ch not in _UNSAFE_ASCII else "_" for ch in name)


def attachment(name: str, suffix: str = "") -> str:
    """The Content-Disposition value of a download of `name` + `suffix` (e.g. .cert.json)."""
    saved = download_name(name, suffix)
    encoded = quote(saved, safe=ATTR_CHARS, encoding="utf-8")
    return f"attachment; filename=\"{ascii_fallback(saved)}\"; filename*=UTF-8''{encoded}"
