"""The one issuer: a version 1 certificate from evidence, its leaf, the batch tree and the anchor.

Certificates are issued from the store's batches (notary.issue.certificates) and by
`notary stamp` (notary.issue.stamp); both assemble them here, so a certificate holds the
same things whichever path issued it. No database and no I/O: `notary stamp` runs in the
base install, and the format itself is notary.core.certificate.
"""

from __future__ import annotations

from notary.chain.registry import AnchorReceipt
from notary.core.certificate import AnchorRecord, Certificate, EvidenceRecord
from notary.core.leaf import Leaf
from notary.core.merkle import MerkleTree


def anchor_record(
    receipt: AnchorReceipt, *, chain_id: int, registry: str, registry_code_hash: bytes
) -> AnchorRecord:
    """The anchor record of the root `receipt` anchored, in the registry at `registry`
    (whose runtime code hashes to `registry_code_hash`) on chain `chain_id`."""
    anchor = receipt.anchor
    return AnchorRecord(
        chain_id=chain_id,
        registry=registry,
        registry_code_hash=registry_code_hash,
        root=anchor.root,
        sequence=anchor.sequence,
        leaf_count=anchor.leaf_count,
        notary=anchor.notary,
        manifest=anchor.manifest,
        tx_hash=receipt.tx_hash,
        block_number=anchor.block_number,
        block_hash=receipt.block_hash,
        block_time=anchor.timestamp,
    )


def issue(
    evidence: EvidenceRecord, leaf: Leaf, leaf_hash: bytes, tree: MerkleTree, anchor: AnchorRecord
) -> Certificate:
    """The certificate of `evidence`, whose leaf entered `tree` as `leaf_hash` and whose
    root `anchor` records; its proof leads from that hash to the root."""
    return Certificate(
        evidence=evidence,
        leaf=leaf,
        leaf_hash=leaf_hash,
        proof=tuple(tree.proof(leaf_hash)),
        anchor=anchor,
    )
