"""Request and response models (pydantic). Unknown fields are refused everywhere."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    RootModel,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from notary.core import certificate as cert_format
from notary.core.leaf import Metadata
from notary.issue.certificates import IssuedCertificate
from notary.issue.views import EvidenceView
from notary.share.access_log import AccessEntry
from notary.share.shares import MAX_CASE_REF, SharedItem, ShareView

Hex64 = Annotated[str, StringConstraints(pattern=r"^(0x)?[0-9a-fA-F]{64}$")]
Text = Annotated[str, StringConstraints(max_length=4096)]


def utc_text(at: datetime) -> str:
    """ISO 8601 in UTC ending in Z. A time without a zone is UTC: the database stores UTC
    and gives it back without one."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.isoformat().replace("+00:00", "Z")


UtcDateTime = Annotated[
    datetime,
    PlainSerializer(utc_text, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""Every time the API returns: RFC 3339 / ISO 8601 in UTC with Z, documented as date-time."""

_RFC3339: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339(value: object) -> object:
    """Only RFC 3339 text, as the date-time format promises: pydantic alone would also take
    a bare number as Unix seconds, and a time with no zone."""
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time with a zone, e.g. 2024-05-01T12:00:00Z")
    return value


ZonedDateTime = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
"""A time the API is given (query parameters): RFC 3339 with Z or an offset, nothing else."""


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable, e.g. invalid_input, sm3_mismatch.")
    message: str
    field: str | None = Field(
        default=None,
        description="invalid_metadata only: the field refused, e.g. metadata.sku or "
        "items.3.metadata.tags.",
    )


class ErrorOut(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


_TEXT_VALUE: Final[dict[str, Any]] = {"type": "string", "maxLength": 4096}
_METADATA_VALUE: Final[dict[str, Any]] = {
    "anyOf": [
        _TEXT_VALUE,
        {"type": "integer", "minimum": 0, "maximum": 2**53 - 1},
        {"type": "array", "items": _TEXT_VALUE, "maxItems": 64},
    ]
}
_SEARCHABLE: Final[dict[str, Any]] = {
    "anyOf": [
        {"type": "string", "maxLength": 256},
        {"type": "integer", "minimum": 0, "maximum": 2**53 - 1},
        {"type": "array", "items": {"type": "string", "maxLength": 256}, "maxItems": 64},
    ],
    "description": "Searchable: GET /v1/evidence?{name}=value.",
}
METADATA_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "title": "MetadataIn",
    "description": "What the depositor declares, in its own words: any key matching "
    "^[a-z][a-z0-9_]{0,63}$ with a string, an integer in [0, 2^53) or a list of strings; "
    "16 KiB of canonical JSON in all. Every field is hashed into the leaf. The keys below "
    "have a meaning to the service; cid and cid_profile are written by the service for "
    "files. A refused field is named: 422 invalid_metadata with error.field.",
    "properties": {
        "name": {**_TEXT_VALUE, "description": "File name (any Unicode)."},
        "path": {
            **_TEXT_VALUE,
            "description": "Path of the file under the folder deposited, '/'-separated "
            "(written by `notary deposit DIR`).",
        },
        "title": _TEXT_VALUE,
        "description": _TEXT_VALUE,
        "media_type": {"type": "string", "maxLength": 255},
        "size": {"type": "integer", "minimum": 0, "maximum": 2**53 - 1},
        "tags": {
            "type": "array",
            "items": {"type": "string", "maxLength": 128},
            "maxItems": 64,
            "description": "Searchable: GET /v1/evidence?tag=value.",
        },
        **{
            name: {**_SEARCHABLE, "description": f"Searchable: GET /v1/evidence?{name}=value."}
            for name in ("designer", "season", "sku", "collection")
        },
    },
    "propertyNames": {"pattern": "^[a-z][a-z0-9_]{0,63}$"},
    "additionalProperties": _METADATA_VALUE,
}


class MetadataIn(RootModel[dict[str, Any]]):
    """What the depositor declares (METADATA_SCHEMA). Only its shape (a JSON object) is
    checked here: notary.deposit.metadata checks the rest for every kind of deposit and
    names the field it refuses, which a pydantic model could not do in the API's one
    error shape."""

    root: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return dict(METADATA_SCHEMA)

    def as_metadata(self) -> Metadata:
        declared: Metadata = self.root
        return declared


class FingerprintIn(Strict):
    """A perceptual fingerprint the client computed itself (`notary deposit --hash-only`)."""

    kind: Annotated[str, Field(min_length=1, max_length=32)]
    hex: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")]


class HashDepositIn(Strict):
    sha256: Hex64
    sm3: Hex64 | None = None
    metadata: MetadataIn = Field(default_factory=MetadataIn)
    signature: str | None = Field(
        default=None,
        max_length=132,
        description="The depositor's EIP-712 signature of this deposit, 0x + 130 hex digits "
        "(optional unless your organization requires one). Typed data: domain "
        "(NotaryConsortium, 1, chain id, registry), Deposit(bytes32 sha256, bytes32 sm3, "
        "bytes32 metadataDigest, string depositor): sm3 32 zero bytes when none, "
        "metadataDigest the SHA-256 of the canonical metadata JSON, depositor and chain id "
        "and registry as GET /v1/depositor-keys gives them. It must recover to an active "
        "depositor key of your organization (422 malformed_signature, "
        "signer_not_registered). The Python client and `notary deposit --key-file` sign.",
        json_schema_extra={"pattern": "^(0x)?[0-9a-fA-F]{130}$"},
    )
    fingerprints: Annotated[list[FingerprintIn], Field(max_length=16)] = Field(
        default_factory=list,
        description="Perceptual fingerprints of the file, computed by the client (the file "
        "never leaves it), so captures can be matched against this design. Stored apart "
        "from the evidence: never in the leaf or the certificate.",
    )


class BulkDepositIn(Strict):
    items: Annotated[list[HashDepositIn], Field(min_length=1, max_length=10_000)]


class AnchorOut(BaseModel):
    root: str
    block_number: int
    block_time: int
    block_time_utc: str
    tx_hash: str


class IpfsOut(BaseModel):
    cid: str
    profile: str
    pin_state: str = Field(description="pending, pinned or failed")
    pin_error: str | None = Field(
        default=None,
        description="Why pinning failed or is being retried (the file stays safe in the "
        "spool until it is pinned); null when nothing went wrong.",
    )


class EventOut(BaseModel):
    at: UtcDateTime
    kind: str
    detail: str


class FingerprintStatusOut(BaseModel):
    status: str
    detail: str


class EvidenceOut(BaseModel):
    id: str
    status: str
    kind: str
    created: bool | None = Field(
        default=None,
        description="False: this content was already "
        "deposited by your organization; the existing evidence is returned.",
    )
    sha256: str
    sm3: str | None
    metadata: dict[str, object]
    received_at: UtcDateTime
    anchor: AnchorOut | None
    ipfs: IpfsOut | None = None
    certificate_url: str
    history: list[EventOut] | None = None
    fingerprint: FingerprintStatusOut | None = Field(
        default=None,
        description="Perceptual fingerprint status (early warning): ok, not_image, "
        "unsupported, corrupt, too_large or not_fingerprinted. In the single view and in the "
        "answer to a single deposit (file or hash); null in lists and bulk answers.",
    )
    signer: str | None = Field(
        default=None,
        description="The depositor key whose EIP-712 signature the deposit carries (its "
        "leaf and certificate name it); null for an unsigned deposit. A signed deposit of "
        "content already deposited returns the existing evidence as it was recorded.",
    )

    @classmethod
    def of(
        cls, v: EvidenceView, *, created: bool | None = None, with_history: bool = False
    ) -> EvidenceOut:
        """From a view of our own records, whose types are right by construction: built
        without validation (model_construct), a third of the cost, which a 10,000-item bulk
        answer feels."""
        anchor = None
        if v.batch_root is not None and v.block_number is not None and v.block_time is not None:
            anchor = AnchorOut.model_construct(
                root="0x" + v.batch_root.hex(),
                block_number=v.block_number,
                block_time=v.block_time,
                block_time_utc=datetime.fromtimestamp(v.block_time, UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                tx_hash="0x" + (v.tx_hash or b"").hex(),
            )
        return cls.model_construct(
            id=v.public_id,
            status=v.status,
            kind=v.kind,
            created=created,
            sha256=v.sha256.hex(),
            sm3=v.sm3.hex() if v.sm3 else None,
            metadata=v.metadata,
            received_at=v.received_at,
            anchor=anchor,
            ipfs=IpfsOut.model_construct(
                cid=v.cid,
                profile=str(v.metadata.get("cid_profile", "")),
                pin_state=v.pin_state,
                pin_error=v.pin_error or None,
            )
            if v.cid
            else None,
            certificate_url=f"/v1/evidence/{v.public_id}/certificate",
            signer=v.signer,
            history=[EventOut.model_construct(at=at, kind=k, detail=d) for at, k, d in v.history]
            if with_history
            else None,
            fingerprint=FingerprintStatusOut.model_construct(
                status=v.fingerprint[0], detail=v.fingerprint[1]
            )
            if v.fingerprint is not None
            else None,
        )


class BulkOut(BaseModel):
    items: list[EvidenceOut]
    created: int
    existing: int


class PageOut(BaseModel):
    items: list[EvidenceOut]
    next_cursor: str | None


class OrganizationIn(Strict):
    slug: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")]
    name: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    role: Annotated[str, StringConstraints(pattern=r"^(depositor|auditor|admin|court|regulator)$")]


class OrganizationOut(BaseModel):
    slug: str
    name: str
    role: str


_EXPIRES_AT: Final = "When the key stops working (RFC 3339 with a zone); omitted: never."
_EXPIRES_IN: Final = "Seconds from now until the key stops working (instead of expires_at)."
ExpiresIn = Annotated[StrictInt, Field(ge=1, le=3660 * 86400, description=_EXPIRES_IN)]


class KeyIn(Strict):
    label: Annotated[str, StringConstraints(max_length=128)] = ""
    expires_at: ZonedDateTime | None = Field(default=None, description=_EXPIRES_AT)
    expires_in: ExpiresIn | None = None


class RotateIn(Strict):
    grace_seconds: Annotated[StrictInt, Field(ge=0, le=30 * 86400)] = Field(
        default=86400,
        description="How long the old key keeps working beside the new one (default 24 h).",
    )
    label: Annotated[str, StringConstraints(max_length=128)] | None = Field(
        default=None, description="The new key's label; omitted: the old key's."
    )
    expires_at: ZonedDateTime | None = Field(default=None, description=_EXPIRES_AT)
    expires_in: ExpiresIn | None = None


class KeyOut(BaseModel):
    organization: str
    prefix: str
    api_key: str = Field(description="Shown once. Store it now; only its hash is kept.")
    expires_at: UtcDateTime | None = None


class KeyInfoOut(BaseModel):
    """A key as listed: never its secret."""

    organization: str
    prefix: str
    label: str
    state: str = Field(description="active, expired or revoked")
    created_at: UtcDateTime
    last_used_at: UtcDateTime | None = Field(
        description="Last request the key let in, to within a minute; null: never used."
    )
    expires_at: UtcDateTime | None
    revoked_at: UtcDateTime | None


class CheckOut(BaseModel):
    name: str
    passed: bool
    detail: str


class VerdictOut(BaseModel):
    outcome: str
    reason: str
    checks: list[CheckOut]
    proven: list[str]
    not_proven: list[str]
    facts: dict[str, object]


class AuditAnchorOut(BaseModel):
    root: str
    sequence: int
    notary: str
    leaf_count: int
    block_number: int
    block_time: int = Field(description="Block time, Unix seconds.")
    block_time_utc: str = Field(description="Block time, ISO 8601 in UTC with Z.")
    tx_hash: str | None = Field(
        description="The anchor transaction (from the Anchored event); null when the node "
        "has no log of it."
    )
    log_head: str
    manifest: str


class ReconciliationCountsOut(BaseModel):
    database_anchors: int = Field(description="Mined batches of this registry, compared.")
    chain_anchors: int = Field(description="Anchors the registry holds (anchorCount).")
    matched: int
    missing: int
    extra: int
    mismatched: int
    in_flight: int = Field(description="Batches not yet mined: not compared.")
    other_registry: int = Field(description="Batches of another registry: not compared.")


class DiscrepancyOut(BaseModel):
    kind: str = Field(description="missing, extra or mismatched.")
    root: str
    batch_id: int | None
    detail: str
    fields: list[str] = Field(description="For mismatched: the fields that differ.")
    database: dict[str, str | int | None] | None
    chain: dict[str, str | int | None] | None


class ReconciliationOut(BaseModel):
    """The database's anchors against the registry's (notary.anchoring.report)."""

    consistent: bool
    chain_id: int
    registry: str
    checked_at: str
    counts: ReconciliationCountsOut
    truncated: bool = Field(description="True when a list holds fewer items than its count.")
    missing: list[DiscrepancyOut]
    extra: list[DiscrepancyOut]
    mismatched: list[DiscrepancyOut]


class ReadyOut(BaseModel):
    ready: bool
    database: bool
    chain: bool
    registry: bool
    ipfs: bool | None = Field(
        default=None,
        description="The IPFS node answers (its peer id in detail.ipfs_peer_id, else why not "
        "in detail.ipfs); null: no node configured. Not part of `ready`: file deposits wait "
        "in the spool while it is down.",
    )
    detail: dict[str, str]


class IssuedCertificateOut(BaseModel):
    """A certificate ever issued for a piece of evidence."""

    status: str = Field(description="current, or superseded (its anchor vanished)")
    superseded_at: UtcDateTime | None = Field(
        default=None, description="When the notary found the anchor gone."
    )
    reason: str | None = Field(default=None, description="Why it was superseded.")
    certificate: dict[str, Any] = Field(description="The certificate document (version 1).")

    @classmethod
    def of(cls, issued: IssuedCertificate) -> IssuedCertificateOut:
        return cls(
            status="current" if issued.current else "superseded",
            superseded_at=issued.superseded_at,
            reason=issued.reason or None,
            certificate=cert_format.to_document(issued.certificate),
        )


class ShareIn(Strict):
    grantee: Annotated[str, StringConstraints(max_length=64)] = Field(
        description="Slug of the organization to share with (a court, a regulator, ...)."
    )
    case_ref: Annotated[str, StringConstraints(min_length=1, max_length=MAX_CASE_REF)] = Field(
        description="The case the evidence is shared for, e.g. a court's case number."
    )
    expires_at: ZonedDateTime | None = Field(
        default=None, description="When the share ends by itself (RFC 3339 with a zone)."
    )


class ShareOut(BaseModel):
    id: str
    evidence_id: str
    owner: str = Field(description="Slug of the organization that shared the evidence.")
    grantee: str
    case_ref: str
    created_at: UtcDateTime
    created_by: str = Field(description="Prefix of the API key that created the share.")
    expires_at: UtcDateTime | None
    revoked_at: UtcDateTime | None
    active: bool

    @classmethod
    def of(cls, v: ShareView) -> ShareOut:
        return cls(
            id=v.id,
            evidence_id=v.evidence_id,
            owner=v.owner,
            grantee=v.grantee,
            case_ref=v.case_ref,
            created_at=v.created_at,
            created_by=v.created_by,
            expires_at=v.expires_at,
            revoked_at=v.revoked_at,
            active=v.active,
        )


class SharedItemOut(BaseModel):
    share: ShareOut
    evidence: EvidenceOut

    @classmethod
    def of(cls, item: SharedItem) -> SharedItemOut:
        return cls(share=ShareOut.of(item.share), evidence=EvidenceOut.of(item.evidence))


class SharedPageOut(BaseModel):
    items: list[SharedItemOut]
    next_cursor: str | None


class AccessEntryOut(BaseModel):
    at: UtcDateTime
    organization: str | None = Field(description="The reader; null for the keyless lookup.")
    key_prefix: str | None = Field(description="Prefix of the reader's API key.")
    action: str = Field(
        description="view, certificate, certificates, pdf, file, bundle, list, public-certificate"
    )
    remote: str | None = Field(description="The client's address.")
    share: str | None = Field(description="The share read through; null for the owner.")
    case_ref: str | None

    @classmethod
    def of(cls, e: AccessEntry) -> AccessEntryOut:
        return cls(
            at=e.at,
            organization=e.organization,
            key_prefix=e.key_prefix,
            action=e.action,
            remote=e.remote,
            share=e.share,
            case_ref=e.case_ref,
        )


class ProposalOut(BaseModel):
    """A batch awaiting endorsement: what an endorser checks and signs (docs/consortium.md)."""

    root: str = Field(description="0x-hex Merkle root.")
    leaf_count: int
    manifest: str = Field(description="CID of the batch manifest on IPFS.")
    batch_time: int = Field(description="Unix seconds, as proposed by the notary.")
    chain_id: int
    registry: str
    endorsements: int = Field(description="Endorsements stored so far.")
    threshold: int = Field(description="k: endorsements the anchor needs.")


class KeyChangeOut(BaseModel):
    """A depositor key change awaiting the endorsers' approval: everything an endorser
    needs to check it itself and to rebuild the EIP-712 ConfigChange it signs
    (docs/consortium.md, "Depositor key changes")."""

    digest: str = Field(
        description="0x-hex EIP-712 digest of the change as proposed: where approvals go. "
        "An endorser recomputes it from the fields below, never trusts it."
    )
    account: str = Field(description="The depositor key's address.")
    role: str = Field(description="DEPOSITOR (add the key) or NONE (remove it).")
    organization: str = Field(
        description="0x-hex organization id of the change: keccak256(depositor) to add, "
        "32 zero bytes to remove."
    )
    name: str = Field(description="The member name on chain (empty to remove).")
    depositor: str = Field(description="The organization's depositor identity.")
    consent: str | None = Field(
        description="0x-hex DepositorKey(account, depositor) signature of the key (adds)."
    )
    threshold: int = Field(description="k, unchanged by the change.")
    nonce: int = Field(description="The registry's configNonce the change is signed for.")
    deadline: int = Field(description="Last block time (Unix seconds) it may be applied at.")
    chain_id: int
    registry: str
    approvals: int = Field(description="Approvals stored so far.")


class ApprovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signature: str = Field(
        description="0x-hex 65-byte EIP-712 ConfigChange signature.", max_length=132
    )


class EndorsementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_time: int = Field(ge=0, lt=2**64)
    signature: str = Field(
        description="0x-hex 65-byte EIP-712 Endorsement signature.", max_length=132
    )


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    root: str = Field(description="0x-hex root refused; 32 zero bytes for a heartbeat.")
    batch_time: int = Field(ge=0, lt=2**64)
    refusal: str = Field(default="", max_length=400)
    sent_at: int = Field(ge=0, lt=2**64)
    signature: str = Field(
        description="0x-hex 65-byte EIP-712 EndorserReport signature.", max_length=132
    )


class SignerOut(BaseModel):
    signer: str


class EndorserOut(BaseModel):
    address: str
    name: str = Field(description="The organization's name, as registered on chain.")
    last_seen: datetime | None = Field(
        description="When this notary last received a signed word from it (UTC); null: never."
    )
    last_word: str = Field(description="What it last said: heartbeat, endorsed or refused ROOT.")
