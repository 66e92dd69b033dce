"""The specification a bundle carries is the one in docs/."""

from __future__ import annotations

from notary.court.spec import specification, specification_v2
from notary.ops.toolchain import REPO_ROOT


def test_packaged_specification_is_docs_certificate_md() -> None:
    assert specification() == (REPO_ROOT / "docs" / "certificate.md").read_bytes(), (
        "notary/court/certificate.md differs from docs/certificate.md: "
        "cp docs/certificate.md notary/court/certificate.md"
    )


def test_packaged_v2_specification_is_docs_certificate_v2_md() -> None:
    assert specification_v2() == (REPO_ROOT / "docs" / "certificate-v2.md").read_bytes(), (
        "notary/court/certificate-v2.md differs from docs/certificate-v2.md: "
        "cp docs/certificate-v2.md notary/court/certificate-v2.md"
    )
