"""The court kit: what a clerk reads and checks on paper or in a browser.

Everything here is made from a certificate alone (no database, no service): the PDF
certificate with its QR code (pdf.py, qr.py, fonts.py), the specification shipped in
bundles (spec.py), and the static web verifier page (verifier.py, verify.html, built
from web/verifier). It sits above notary.verify, whose wording it prints.
"""
