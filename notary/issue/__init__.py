"""Issuing: certificates from the store and the batch trees, evidence views,
retrieval and court bundles, search."""
