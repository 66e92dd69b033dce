"""What a court gets besides the certificate JSON: the web verifier page (and the PDF)."""
