"""Tables. Every state change of a deposit or a batch is a committed row change."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    DDL,
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy import (
    false as sa_false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from notary.core.leaf import Leaf, metadata_digest, sm3_leaf_value


class Base(DeclarativeBase):
    pass


class Role(StrEnum):
    DEPOSITOR = "depositor"
    AUDITOR = "auditor"
    ADMIN = "admin"
    COURT = "court"  # receives shares for its cases, reads the audit
    REGULATOR = "regulator"  # market regulators, police, prosecutors: as a court


class EvidenceStatus(StrEnum):
    PENDING = "pending"  # durably recorded, waiting for a batch
    BATCHED = "batched"  # in a batch whose anchor is under way
    CONFIRMING = "confirming"  # the anchor is in a block that is not final yet
    ANCHORED = "anchored"  # the anchor's block is final: the certificate exists


class PinState(StrEnum):
    NONE = "none"  # nothing to pin: a hash-only deposit
    PENDING = "pending"  # the file waits in the spool to be pinned
    PINNED = "pinned"  # the IPFS node holds it under the recorded CID
    FAILED = "failed"  # pinning failed for good (reported; the spooled file is kept)


class BatchStatus(StrEnum):
    BUILT = "built"  # leaves fixed, root computed, no transaction yet
    AWAITING_ENDORSEMENT = "awaiting_endorsement"  # consortium: proposed, < k endorsements
    SIGNED = "signed"  # transaction signed and stored (hash known), maybe sent
    CONFIRMING = "confirming"  # mined; anchor data recorded; its block is not final yet
    ANCHORED = "anchored"  # its block is final: certificates are issued


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    require_signature: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    """Refuse this organization's deposits that carry no depositor signature
    (docs/certificate-v2.md; PUT /v1/depositor-signatures)."""


class DepositorKeyState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REMOVING = "removing"
    REMOVED = "removed"


class DepositorKey(Base):
    """A depositing organization's signing key: a DEPOSITOR member of the ConsortiumRegistry
    with the organization's id (keccak256 of its depositor identity) and name, added and
    removed by quorum-approved configuration changes (notary.deposit.signing). A key belongs
    to one organization for good: removed, it may be registered again by the same one only."""

    __tablename__ = "depositor_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    address: Mapped[str] = mapped_column(String(42), unique=True)
    """EIP-55."""
    name: Mapped[str] = mapped_column(String(128))
    """The member name on chain (the organization's name when the key was registered)."""
    registry_address: Mapped[str] = mapped_column(String(42))
    state: Mapped[str] = mapped_column(String(16))
    """DepositorKeyState: pending (awaiting the quorum's change), active, removing, removed."""
    registered_at: Mapped[datetime]
    added_tx: Mapped[str | None] = mapped_column(String(66))
    """The configuration change that made it a DEPOSITOR member (None while pending)."""
    removed_at: Mapped[datetime | None]
    removed_tx: Mapped[str | None] = mapped_column(String(66))
    consent: Mapped[bytes | None] = mapped_column(LargeBinary(65))
    """The key's EIP-712 DepositorKey consent, as registered: the consortium's endorsers
    check it themselves before approving the change (None for keys registered before)."""
    change_nonce: Mapped[int | None]
    """The open change as proposed to the endorsers (notary.anchoring.key_changes): the
    registry's config nonce, the threshold it keeps, its deadline and its EIP-712 digest;
    None until proposed. A new proposal (the nonce moved on, the deadline is near) replaces
    them, and the approvals of the old digest no longer count."""
    change_threshold: Mapped[int | None]
    change_deadline: Mapped[int | None]
    change_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    last_refusal: Mapped[str | None] = mapped_column(String(512))
    """The latest endorser's signed refusal of the change, with its reason."""


class KeyApproval(Base):
    """An endorser's EIP-712 approval of a depositor key change as proposed (its digest),
    checked to recover to a current ENDORSER before it is stored."""

    __tablename__ = "key_approvals"
    __table_args__ = (UniqueConstraint("digest", "signer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("depositor_keys.id"), index=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    signer: Mapped[str] = mapped_column(String(42))
    signature: Mapped[bytes] = mapped_column(LargeBinary(65))
    received_at: Mapped[datetime]


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    label: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    """From then on the key is refused (401 key_expired); set at creation or by a rotation."""
    last_used_at: Mapped[datetime | None]
    """When the key last let a request in, to within notary.store.orgs.LAST_USED_PRECISION."""

    organization: Mapped[Organization] = relationship()


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    leaf_count: Mapped[int]
    status: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime]
    batch_time: Mapped[int | None]
    """Consortium: the batch time proposed to the endorsers (what they sign, Unix seconds)."""
    endorsement_threshold: Mapped[int | None]
    """Consortium: the k the registry recorded with the anchor (endorsementOf(root))."""
    tx_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    raw_tx: Mapped[bytes | None] = mapped_column(LargeBinary)
    nonce: Mapped[int | None]
    chain_id: Mapped[int | None]
    registry_address: Mapped[str | None] = mapped_column(String(42))
    registry_code_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    sequence: Mapped[int | None]
    notary: Mapped[str | None] = mapped_column(String(42))
    manifest: Mapped[str] = mapped_column(String(256), default="")
    """CID of the batch manifest (notary.core.manifest), the anchor's manifest reference."""
    manifest_pinned: Mapped[bool] = mapped_column(default=False)
    block_number: Mapped[int | None]
    block_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    block_time: Mapped[int | None]
    anchored_at: Mapped[datetime | None]


class Endorsement(Base):
    """An endorser's EIP-712 signature of a batch as proposed (root, leaf count, manifest,
    batch_time), checked to recover to a current ENDORSER of the registry before it is
    stored. A re-proposal (new batch_time) deletes the batch's old ones."""

    __tablename__ = "endorsements"
    __table_args__ = (UniqueConstraint("batch_id", "signer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    batch_time: Mapped[int]
    registry_address: Mapped[str] = mapped_column(String(42))
    signer: Mapped[str] = mapped_column(String(42))
    organization: Mapped[bytes] = mapped_column(LargeBinary(32))
    """The signer's organization id as the registry listed it when the endorsement came."""
    name: Mapped[str] = mapped_column(String(128))
    """The signer's organization name, likewise (certificate v2 carries both)."""
    signature: Mapped[bytes] = mapped_column(LargeBinary(65))
    received_at: Mapped[datetime]


class EndorserContact(Base):
    """When each endorser last spoke to this notary (a signed heartbeat, endorsement or
    refusal): GET /v1/ready shows which ones were seen recently."""

    __tablename__ = "endorser_contacts"

    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    last_seen: Mapped[datetime]
    last_word: Mapped[str] = mapped_column(String(512), default="")


class SupersededAnchor(Base):
    """An anchor of a batch that vanished from the chain (reorganization, a node restored
    from backup, a reset devnet) after certificates had been issued for it. The batch was
    anchored again; certificates built from this row are the superseded ones, kept so the
    history shows both."""

    __tablename__ = "superseded_anchors"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    superseded_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(512))
    chain_id: Mapped[int]
    registry_address: Mapped[str] = mapped_column(String(42))
    registry_code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    sequence: Mapped[int]
    notary: Mapped[str] = mapped_column(String(42))
    tx_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    block_number: Mapped[int]
    block_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    block_time: Mapped[int]
    anchored_at: Mapped[datetime | None]


class Evidence(Base):
    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("organization_id", "sha256", name="uq_evidence_org_sha256"),
        UniqueConstraint("organization_id", "idempotency_key", name="uq_evidence_org_idem"),
        Index("ix_evidence_org_created", "organization_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    sm3: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    metadata_json: Mapped[dict[str, object]] = mapped_column(JSON)
    depositor: Mapped[str] = mapped_column(String(256))
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    """Not indexed: never looked up by itself (the random salt makes every leaf distinct, and a
    unique index cost 20% of a bulk insert)."""
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(8))  # "file" or "hash"
    status: Mapped[str] = mapped_column(String(16), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), index=True)
    received_at: Mapped[datetime]
    cid: Mapped[str | None] = mapped_column(String(100))
    pin_state: Mapped[str] = mapped_column(String(16), default=PinState.NONE.value, index=True)
    pin_attempts: Mapped[int] = mapped_column(default=0)
    pin_error: Mapped[str] = mapped_column(String(512), default="")
    spool: Mapped[str | None] = mapped_column(String(64))
    """File name in <data>/spool holding the bytes until they are pinned."""
    depositor_signature: Mapped[bytes | None] = mapped_column(LargeBinary(65))
    """The depositor key's EIP-712 Deposit signature (the signer is named in `depositor`)."""

    batch: Mapped[Batch | None] = relationship()

    def leaf(self) -> Leaf:
        """The leaf this evidence was anchored as, rebuilt (deterministic: the salt is
        stored)."""
        return Leaf(
            sha256=self.sha256,
            sm3=sm3_leaf_value(self.sm3),
            metadata_digest=metadata_digest(self.metadata_json),
            depositor=self.depositor,
            salt=self.salt,
        )


class BatchEvent(Base):
    """What happened to a batch (batched, anchored, anchor lost): part of the history of
    every deposit in it, stored once per batch rather than once per deposit."""

    __tablename__ = "batch_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(512), default="")


class EvidenceEvent(Base):
    """Events of one piece of evidence beyond its batch's (received is `received_at`)."""

    __tablename__ = "evidence_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(512), default="")


class EvidenceTag(Base):
    """One tag of one piece of evidence (searchable)."""

    __tablename__ = "evidence_tags"
    __table_args__ = (Index("ix_evidence_tags_tag", "tag", "evidence_id"),)

    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(4096), primary_key=True)


class Share(Base):
    """Evidence an organization (the owner) shared with another (the grantee) for a case.

    Active while `revoked_at` is unset and `expires_at` (if any) is in the future; an
    inactive share gives nothing, as if it never existed (notary.share.access)."""

    __tablename__ = "shares"
    __table_args__ = (Index("ix_shares_grantee", "grantee_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    grantee_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    case_ref: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(16))
    """Prefix of the API key that created it."""
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(16))


class AccessLog(Base):
    """One read of shared evidence: who (organization, key prefix), what, when, from where.

    Append-only: no code updates or deletes a row, and the database refuses to (triggers
    created with the table, below and in migration 0003)."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_evidence", "evidence_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"))
    share_id: Mapped[int | None] = mapped_column(ForeignKey("shares.id"))
    """The share the access went through; null for the owner and for the public lookup."""
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    """Null for the keyless public lookup."""
    key_prefix: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    remote: Mapped[str | None] = mapped_column(String(64))


ACCESS_LOG_TRIGGERS: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log "
        "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END",
        "CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log "
        "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END",
    ),
    "postgresql": (
        "CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'access_log is append-only'; END $$",
        "CREATE TRIGGER access_log_no_change BEFORE UPDATE OR DELETE ON access_log "
        "FOR EACH ROW EXECUTE FUNCTION access_log_append_only()",
        "CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()",
    ),
}
"""The database refuses to change or delete access-log rows (triggers are not part of the
models Alembic compares, so migration 0003 creates the same ones)."""

for _dialect, _statements in ACCESS_LOG_TRIGGERS.items():
    for _statement in _statements:
        event.listen(
            AccessLog.__table__,
            "after_create",
            DDL(_statement).execute_if(dialect=_dialect),  # type: ignore[no-untyped-call]
        )


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_at (or being sent: claimed_at is set)
    DELIVERED = "delivered"  # the endpoint answered 2xx once
    FAILED = "failed"  # no 2xx within the give-up period (NOTARY_WEBHOOK_GIVE_UP_SECONDS)


class WebhookEndpoint(Base):
    """An organization's webhook endpoint (notary.hooks).

    `secret` is kept as it is: every delivery is signed with it (HMAC), so a hash would not
    do. It is shown once, when the endpoint is registered, and never returned again; the
    database's own protection is what guards it at rest (README, Webhooks).
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(256), default="")
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class WebhookDelivery(Base):
    """The outbox: one message to one endpoint, inserted in the transaction of the state
    change it reports, so a committed change always has its message (nothing lost on a
    crash). Deleted endpoints keep their rows (the history stays listable)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    """The message id (`webhook-id` header): the same for every attempt, so a receiver
    recognises a message delivered twice."""
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    """Set while an attempt is under way; a process killed meanwhile leaves it set, and the
    next deliverer sends the message again (at least once)."""
    finished_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    """One attempt to deliver a message: when, the answer's status code or the error."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    number: Mapped[int]
    at: Mapped[datetime]
    status_code: Mapped[int | None]
    error: Mapped[str] = mapped_column(String(512), default="")
    duration_ms: Mapped[int]
    next_attempt_at: Mapped[datetime | None]


class EvidenceField(Base):
    """One value of one searchable metadata field (notary.deposit.metadata.INDEXED_FIELDS)
    of one piece of evidence: `?sku=AB-12` finds it without reading every row's JSON."""

    __tablename__ = "evidence_fields"
    __table_args__ = (Index("ix_evidence_fields_value", "name", "value", "evidence_id"),)

    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256), primary_key=True)


class FingerprintState(StrEnum):
    """Whether a piece of evidence has perceptual fingerprints (notary.monitor)."""

    OK = "ok"  # fingerprinted (by the service, or given by the client for a hash)
    NOT_IMAGE = "not_image"  # not an image: nothing to match, nothing to watch
    UNSUPPORTED = "unsupported"  # an image format the fingerprinter ignores
    CORRUPT = "corrupt"  # truncated or undecodable
    TOO_LARGE = "too_large"  # over the pixel (decompression bomb) or byte limit


class DesignFingerprint(Base):
    """One perceptual fingerprint of one piece of evidence (notary.monitor.fingerprint).

    Kept apart from the evidence row, the leaf and the certificate on purpose: a
    fingerprint says what an image looks like, not what it is, so it proves nothing and
    must never become part of what is anchored."""

    __tablename__ = "design_fingerprints"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    bits: Mapped[bytes] = mapped_column(LargeBinary(32))
    quality: Mapped[int]


class DesignSketch(Base):
    """A design's sketch (notary.monitor.sketch: a 48 x 48 edge image), the second look at
    a capture the watch index found near it. Like a fingerprint, it proves nothing and is
    never part of what is anchored."""

    __tablename__ = "design_sketches"

    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), primary_key=True)
    sketch: Mapped[bytes] = mapped_column(LargeBinary)


class FingerprintStatus(Base):
    """The fingerprinting outcome of one piece of evidence, written in the transaction
    that records the deposit (so no committed file deposit is ever without one). A hash
    deposit has a row only when its client sent fingerprints."""

    __tablename__ = "fingerprint_status"

    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(512), default="")
    source: Mapped[str] = mapped_column(String(8))  # "server" or "client"


class WatchList(Base):
    """Which of an organization's designs are watched; no row: all, no disclosure."""

    __tablename__ = "watch_lists"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))  # "all" or "tags"
    tags: Mapped[list[str]] = mapped_column(JSON)
    disclose_to_finders: Mapped[bool]
    updated_at: Mapped[datetime]


class Capture(Base):
    """A suspect image found elsewhere, deposited as evidence of the finder."""

    __tablename__ = "captures"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    source_url: Mapped[str] = mapped_column(String(2048))
    shop: Mapped[str] = mapped_column(String(256), default="")
    price: Mapped[str] = mapped_column(String(64), default="")
    captured_at: Mapped[datetime]
    created_at: Mapped[datetime]


class AlertStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    DISMISSED = "dismissed"


class Alert(Base):
    """A capture that matched a watched design: for the design's owner only."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("design_id", "capture_id", name="uq_alerts_design_capture"),
        Index("ix_alerts_org", "organization_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    """The design's owner: the only organization that sees the alert."""
    design_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    distance: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    status_at: Mapped[datetime | None]
