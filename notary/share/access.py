"""Who may read a piece of evidence, and the record of each read.

`admit` is the one check of every read of evidence by id (view, certificate, PDF, file,
bundle, access log): the owner may, and so may an organization holding an active share of
it; anyone else gets NotFoundError, worded as for an id that does not exist. `access` adds
the access-log entry and returns the owner, whose organization then scopes the read itself
(notary.issue reads are per owner), so a grantee reaches this one piece of evidence and
nothing else of the owner's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from notary.errors import NotFoundError
from notary.hooks import events
from notary.store.db import transaction
from notary.store.models import AccessLog, Evidence, Organization, Role, Share
from notary.store.orgs import OrgView

ACTIONS: Final = frozenset(
    {
        "view",  # GET /v1/evidence/{id}: status, metadata, anchor, history
        "certificate",  # the current certificate JSON
        "certificates",  # every certificate issued (superseded ones too)
        "pdf",  # the PDF certificate
        "file",  # the deposited file
        "bundle",  # the court bundle
        "list",  # shown in the grantee's list of what was shared with it
        "public-certificate",  # the keyless lookup by id and SHA-256
    }
)
"""What an access-log entry says was read."""

MAX_REMOTE: Final = 64
"""Longest client address stored (an IPv6 address with a zone fits)."""


@dataclass(frozen=True)
class Origin:
    """Where a request came from, for the access log: the API key's prefix (not secret:
    it names the key, the secret part is never stored) and the client's address."""

    key_prefix: str | None = None
    remote: str | None = None


def now() -> datetime:
    """The time as the database stores it: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def active_share(session: Session, evidence_id: int, grantee_id: int) -> Share | None:
    """The grantee's oldest active share of the evidence (not revoked, not expired)."""
    return session.scalar(
        select(Share)
        .where(
            Share.evidence_id == evidence_id,
            Share.grantee_id == grantee_id,
            Share.revoked_at.is_(None),
            or_(Share.expires_at.is_(None), Share.expires_at > now()),
        )
        .order_by(Share.id)
        .limit(1)
    )


def admit(session: Session, org: OrgView, public_id: str) -> tuple[Evidence, Share | None]:
    """The evidence `public_id` if `org` owns it (share None) or holds an active share of
    it (that share); NotFoundError otherwise, the same as for an unknown id."""
    evidence = session.scalar(select(Evidence).where(Evidence.public_id == public_id))
    if evidence is not None:
        if evidence.organization_id == org.id:
            return evidence, None
        share = active_share(session, evidence.id, org.id)
        if share is not None:
            return evidence, share
    raise NotFoundError(f"no evidence {public_id!r}")  # another tenant's id looks absent


def owner_of(session: Session, evidence: Evidence) -> OrgView:
    row = session.get_one(Organization, evidence.organization_id)
    return OrgView(row.id, row.slug, row.name, Role(row.role))


def was_shared(session: Session, evidence_id: int) -> bool:
    """Whether the evidence was ever shared (from then on, the owner's reads are logged
    too)."""
    found = session.scalar(select(Share.id).where(Share.evidence_id == evidence_id).limit(1))
    return found is not None


def access(
    factory: sessionmaker[Session],
    org: OrgView,
    public_id: str,
    action: str,
    origin: Origin | None = None,
) -> OrgView:
    """Check that `org` may read the evidence (`admit`), record the access when the
    evidence is shared, and return its owner, whose organization scopes the read.

    Recorded: every read through a share, and the owner's reads of evidence that was ever
    shared (an owner's reads of evidence never shared are not: nobody else is concerned,
    and the log would grow with every download). The entry is written before the read
    itself, so it records the access granted even when the answer is then 409 (not anchored
    yet) or the transfer is cut short.
    """
    with transaction(factory) as session:
        evidence, share = admit(session, org, public_id)
        if share is not None or was_shared(session, evidence.id):
            record(session, evidence, share, org, action, origin or Origin())
        return org if share is None else owner_of(session, evidence)


def record(
    session: Session,
    evidence: Evidence,
    share: Share | None,
    org: OrgView | None,
    action: str,
    origin: Origin,
) -> None:
    """Append one access-log entry (in the caller's transaction), and tell the owner's
    webhooks (share.accessed) when someone else read: a grantee through its share, or
    anyone through the keyless lookup. The owner's own reads and the grantee's listing of
    what was shared with it are logged without a message."""
    assert action in ACTIONS, action
    at = now()
    session.add(
        AccessLog(
            evidence_id=evidence.id,
            share_id=share.id if share is not None else None,
            organization_id=org.id if org is not None else None,
            key_prefix=origin.key_prefix,
            action=action,
            at=at,
            remote=origin.remote[:MAX_REMOTE] if origin.remote else None,
        )
    )
    by_other = share is not None or org is None
    if by_other and action != "list":
        events.share_accessed(session, evidence, share, org, action, at)
