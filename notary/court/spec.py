"""The certificate specification, as shipped inside the package (and in every bundle).

notary/court/certificate.md is a byte-for-byte copy of docs/certificate.md, kept as package
data so an installed notary (no clone) can put the specification in a court bundle;
tests/unit/court/test_spec.py fails when the two differ (copy docs/certificate.md over it).
"""

from __future__ import annotations

from importlib import resources
from typing import Final

SPEC_NAME: Final = "certificate.md"


def specification() -> bytes:
    """docs/certificate.md: the certificate format and how to verify one by hand."""
    return resources.files("notary.court").joinpath(SPEC_NAME).read_bytes()
