"""Evidence notary: anchor design files on an EVM chain and issue verifiable certificates.

Layout, packages by job (the separation is the product's promise; each package imports
only the ones before it, checked by tests/unit/test_layout.py):

- ``notary.core``: format code, pure functions, no I/O (hashing, leaf, Merkle tree,
  certificate, log head, manifests, CIDs, strict JSON). Changing it breaks certificates issued.
- ``notary.chain`` and ``notary.ipfs``: the registry client (a key-less RegistryReader and
  a signing RegistryWriter; the only web3.py user besides notary.ops), the published build,
  finality; the Kubo-RPC client.
- ``notary.verify``: checks a certificate and audits the registry with the core, the chain
  and IPFS only; it never imports a database, the service or the HTTP app.
- ``notary.ops``: devnet, deploy, keys, the deployment record, stamp, the contract build.
- ``notary.store``, ``notary.deposit``, ``notary.issue``, ``notary.anchoring``: the
  service library (database, deposits, certificates, batching and reconciliation).
- ``notary.service`` (the running notary), ``notary.client``, ``notary.cli``.
"""

__version__ = "0.1.0"
