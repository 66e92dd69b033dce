"""Certificates for stored evidence, built from what was anchored (the store + the tree).

The rows give the evidence, its leaf and the anchor; notary.issue.issuer assembles the
certificate, as it does for `notary stamp`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, sessionmaker

from notary.core.certificate import AnchorRecord, Certificate, EvidenceRecord
from notary.core.certificate_v2 import DepositorSignature, MemberEndorsement, issue_v2
from notary.core.depositor import organization_id, split_depositor
from notary.core.leaf import validate_metadata
from notary.core.merkle import MerkleTree
from notary.errors import ConflictError
from notary.issue.issuer import issue
from notary.issue.trees import TreeCache
from notary.issue.views import owned
from notary.store.db import transaction
from notary.store.depositor_keys import key_name
from notary.store.models import (
    Batch,
    BatchStatus,
    Endorsement,
    Evidence,
    SupersededAnchor,
)
from notary.store.orgs import OrgView


def certificate(
    factory: sessionmaker[Session], trees: TreeCache, org: OrgView, public_id: str
) -> Certificate:
    """The current certificate of anchored evidence; ConflictError until its anchor is
    final (notary.anchoring.reconcile)."""
    with transaction(factory) as session:
        e = owned(session, org, public_id)
        batch = e.batch
        if batch is None or batch.status != BatchStatus.ANCHORED.value:
            raise ConflictError(_not_yet(e, batch))
        return _issue(e, trees.get(session, batch), _anchor_of(batch), _endorsed(session, batch))


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate ever issued for a piece of evidence: the current one, or one whose
    anchor vanished from the chain and was replaced (superseded)."""

    certificate: Certificate
    current: bool
    superseded_at: datetime | None
    reason: str


def certificates(
    factory: sessionmaker[Session], trees: TreeCache, org: OrgView, public_id: str
) -> list[IssuedCertificate]:
    """Every certificate issued for the evidence, oldest first; the last is the current one
    when the evidence is anchored now."""
    with transaction(factory) as session:
        e = owned(session, org, public_id)
        batch = e.batch
        if batch is None:
            return []
        old = session.scalars(
            select(SupersededAnchor)
            .where(SupersededAnchor.batch_id == batch.id)
            .order_by(SupersededAnchor.id)
        ).all()
        current = batch.status == BatchStatus.ANCHORED.value
        if batch.batch_time is not None:
            # a consortium batch: a superseded anchor's endorsements were discarded when it
            # was proposed again, so only the current anchor's (v2) certificate is issued
            old = []
        if not old and not current:
            return []
        tree = trees.get(session, batch)
        issued = [
            IssuedCertificate(
                _issue(e, tree, _anchor_of(s, batch)), False, _utc(s.superseded_at), s.reason
            )
            for s in old
        ]
        if current:
            issued.append(
                IssuedCertificate(
                    _issue(e, tree, _anchor_of(batch), _endorsed(session, batch)), True, None, ""
                )
            )
        return issued


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _not_yet(e: Evidence, batch: Batch | None) -> str:
    if batch is not None and batch.status == BatchStatus.CONFIRMING.value:
        return (
            f"evidence {e.public_id} is confirming: anchored in block {batch.block_number}, "
            "which is not final yet; the certificate is issued once it is"
        )
    return f"evidence {e.public_id} is {e.status}: not anchored yet"


def _anchor_of(row: Batch | SupersededAnchor, batch: Batch | None = None) -> AnchorRecord:
    """The anchor record of a batch (its current anchor) or of a superseded anchor."""
    owner = batch if batch is not None else row
    assert isinstance(owner, Batch)
    assert row.block_number is not None and row.block_time is not None
    assert row.tx_hash is not None and row.block_hash is not None
    assert row.chain_id is not None and row.registry_address is not None
    assert row.registry_code_hash is not None and row.sequence is not None
    assert row.notary is not None
    return AnchorRecord(
        chain_id=row.chain_id,
        registry=row.registry_address,
        registry_code_hash=row.registry_code_hash,
        root=owner.root,
        sequence=row.sequence,
        leaf_count=owner.leaf_count,
        notary=row.notary,
        manifest=owner.manifest,
        tx_hash=row.tx_hash,
        block_number=row.block_number,
        block_hash=row.block_hash,
        block_time=row.block_time,
    )


@dataclass(frozen=True)
class _Endorsed:
    """A consortium anchor's endorsement data (certificate version 2)."""

    batch_time: int
    threshold: int
    endorsements: tuple[MemberEndorsement, ...]


def _endorsed(session: Session, batch: Batch) -> _Endorsed | None:
    """The endorsements the registry recorded with the batch's anchor (the batcher kept
    exactly those), or None for a batch anchored on a single-operator registry."""
    if batch.batch_time is None:
        return None
    if batch.endorsement_threshold is None:
        raise ConflictError(
            f"batch 0x{batch.root.hex()} is anchored on a consortium registry, but its "
            "endorsement record is incomplete: no certificate can be issued"
        )
    rows = session.scalars(
        select(Endorsement).where(
            Endorsement.batch_id == batch.id, Endorsement.batch_time == batch.batch_time
        )
    ).all()
    return _Endorsed(
        batch.batch_time,
        batch.endorsement_threshold,
        tuple(
            MemberEndorsement(
                member=r.signer,
                organization_id="0x" + r.organization.hex(),
                organization=r.name,
                signature="0x" + r.signature.hex(),
            )
            for r in rows
        ),
    )


def _issue(
    e: Evidence, tree: MerkleTree, anchor: AnchorRecord, endorsed: _Endorsed | None = None
) -> Certificate:
    """The certificate of stored evidence under `anchor`, by the one issuer: version 2 with
    the endorsements for a consortium anchor, version 1 otherwise."""
    record = EvidenceRecord(sha256=e.sha256, sm3=e.sm3, metadata=validate_metadata(e.metadata_json))
    if endorsed is None:
        return issue(record, e.leaf(), e.leaf_hash, tree, anchor)
    signed = None
    identity, signer = split_depositor(e.depositor)
    if signer is not None and e.depositor_signature is not None:
        session = object_session(e)
        name = key_name(session, signer) if session is not None else None
        signed = DepositorSignature(
            signer=signer,
            organization_id="0x" + organization_id(identity).hex(),
            organization=name or "?",
            signature="0x" + e.depositor_signature.hex(),
        )
    return issue_v2(
        record,
        e.leaf(),
        e.leaf_hash,
        tree,
        anchor,
        registry_kind="consortium",
        batch_time=endorsed.batch_time,
        threshold=endorsed.threshold,
        endorsements=endorsed.endorsements,
        depositor_signature=signed,
    )
