"""Format code: hashing, evidence leaves, the Merkle tree and the certificate. Pure, no I/O.

WARNING: every certificate already issued depends on these byte-level definitions. Changing
how a leaf is encoded, how metadata is canonicalized, how the tree is built or what a
certificate field means breaks the verification of every certificate in circulation. Add
a new scheme or certificate version instead, and keep the old one verifying forever
(tests/vectors/ holds golden files that must keep passing).
"""
