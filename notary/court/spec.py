"""The certificate specifications, as shipped inside the package (and in every bundle).

notary/court/certificate.md and certificate-v2.md are byte-for-byte copies of
docs/certificate.md (version 1, which version 2 builds on and links to) and
docs/certificate-v2.md, kept as package data so an installed notary (no clone) can put the
specifications in a court bundle; tests/unit/court/test_spec.py fails when a copy differs
(copy the docs/ file over it).
"""

from __future__ import annotations

from importlib import resources
from typing import Final

SPEC_NAME: Final = "certificate.md"
SPEC_V2_NAME: Final = "certificate-v2.md"


def specification() -> bytes:
    """docs/certificate.md: the certificate format and how to verify one by hand."""
    return resources.files("notary.court").joinpath(SPEC_NAME).read_bytes()


def specification_v2() -> bytes:
    """docs/certificate-v2.md: version 2 (consortium endorsements), the additions to version 1."""
    return resources.files("notary.court").joinpath(SPEC_V2_NAME).read_bytes()
