"""Evidence notary: anchor design files on an EVM chain and issue verifiable certificates.

Layout (the separation is the product's promise):

- ``notary.core``: format code, pure functions, no I/O (hashing, leaf, Merkle tree,
  certificate). Changing it breaks certificates already issued.
- ``notary.chain``: the registry contract client (web3.py) and the published build.
- ``notary.verify``: checks a certificate with the core and the chain client only;
  it never imports a database or the HTTP service.
- everything else (devnet launcher, deploy, stamp, CLI) is the operator's side.
"""

__version__ = "0.1.0"
