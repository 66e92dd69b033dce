"""Issuing: the one issuer (issuer.py), certificates from the store and the batch trees,
`notary stamp` (an issuer without a store), evidence views, retrieval and court bundles,
search."""
