"""`notary certificate pdf`: print a certificate JSON as the PDF certificate (存证证书).

Needs only the certificate (no server, no database, no chain) and the `pdf` extra
(fpdf2, segno: `pip install 'evidence-notary[pdf]'`) with a CJK font (Debian's
fonts-noto-cjk). The API's /v1/evidence/{id}/certificate.pdf prints the same page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from notary.cli.common import HELP_OPTIONS, app, fail, out
from notary.errors import NotaryError

certificate_app = typer.Typer(
    help="Certificates: print one as a PDF for a court.",
    no_args_is_help=True,
    context_settings=HELP_OPTIONS,
)
app.add_typer(certificate_app, name="certificate")

DEFAULT_VERIFY_URL = "http://127.0.0.1:8000"
"""Where the QR code's web verifier is, unless --verify-url says (NOTARY_PUBLIC_URL's default)."""


def pdf_path(cert_path: Path) -> Path:
    """x.png.cert.json -> x.png.cert.pdf (the name a bundle gives it); other -> name.pdf."""
    return cert_path.with_suffix(".pdf")


@certificate_app.command("pdf")
def pdf(
    certificate: Annotated[Path, typer.Argument(help="Certificate JSON (FILE.cert.json).")],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="PDF to write (default: CERT with .pdf for .json)."),
    ] = None,
    verify_url: Annotated[
        str,
        typer.Option(
            "--verify-url", help="Public URL of the notary whose /verify page the QR code opens."
        ),
    ] = DEFAULT_VERIFY_URL,
    evidence_id: Annotated[
        str | None,
        typer.Option("--id", help="Evidence id (ev_...) to print and put in the QR link."),
    ] = None,
) -> None:
    """Write the PDF certificate of CERTIFICATE: Chinese and English, with a QR code."""
    from notary.core import certificate as cert_format
    from notary.core import certificate_v2
    from notary.files import write_atomic

    try:
        from notary.court.pdf import render
        from notary.court.qr import verify_url as link_for
    except ImportError as exc:
        fail(
            f"PDF certificates need the pdf extra ({exc.name} is missing): "
            "pip install 'evidence-notary[pdf]'"
        )
    target = out_file or pdf_path(certificate)
    try:
        with certificate.open("rb") as fh:
            text = fh.read(cert_format.MAX_CERTIFICATE_BYTES + 1)
        cert = certificate_v2.loads(text)  # version 1 or 2
        document = render(
            cert, link_for(verify_url, cert.evidence.sha256, evidence_id), evidence_id
        )
        write_atomic(target, document)
    except OSError as exc:
        fail(f"cannot read or write {exc.filename}: {exc.strerror}")
    except NotaryError as exc:
        fail(f"{certificate}: {exc}")
    out.print(f"wrote {target}", highlight=False)
