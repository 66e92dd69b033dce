"""Shares: an owner gives another organization read access to one piece of evidence for a
case, until it expires or is revoked.

Who may receive a share: any other organization except an admin (the operator holds no
evidence and reads none); courts and regulators are the usual grantees, another studio
(e.g. the one a design was licensed to) may be one too. Organization slugs are not secret
among the consortium's members (they are on paperwork and in audit trails), so naming an
unknown one is a plain 422; only a depositor with a key of its own can ask.

A grantee may read the shared evidence and its access log, nothing else of the owner's: it
cannot share it onward, revoke, list the owner's evidence, or deposit for the owner
(a deposit always lands in the organization of the key that sent it).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased, selectinload, sessionmaker

from notary.errors import (
    ConflictError,
    NotFoundError,
    SelfShareError,
    UnknownOrganizationError,
    ValidationError,
)
from notary.issue.search import stored_time
from notary.issue.views import EvidenceView, owned, summary
from notary.share.access import Origin, now, record
from notary.store.db import transaction
from notary.store.models import Evidence, Organization, Role, Share
from notary.store.orgs import OrgView

MAX_CASE_REF: Final = 256
"""Longest case reference, in characters (court case numbers such as (2026)浙0103民初1234号
are far shorter)."""
MAX_PAGE: Final = 500
SHARE_ID: Final = re.compile(r"sh_[0-9a-f]{24}")
_CURSOR: Final = re.compile(r"[0-9]{1,18}")
GRANTEE_ROLES: Final = frozenset({Role.COURT, Role.REGULATOR, Role.AUDITOR, Role.DEPOSITOR})
"""Roles that may receive a share (not admin)."""


@dataclass(frozen=True)
class ShareView:
    """A share as its owner and its grantee see it."""

    id: str
    evidence_id: str
    owner: str
    grantee: str
    case_ref: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now())


@dataclass(frozen=True)
class SharedItem:
    """One entry of a grantee's list: the share and the evidence it gives."""

    share: ShareView
    evidence: EvidenceView


@dataclass(frozen=True)
class SharedPage:
    items: list[SharedItem]
    next_cursor: str | None


def _view(share: Share, evidence: str, owner: str, grantee: str) -> ShareView:
    return ShareView(
        id=share.public_id,
        evidence_id=evidence,
        owner=owner,
        grantee=grantee,
        case_ref=share.case_ref,
        created_at=share.created_at,
        created_by=share.created_by,
        expires_at=share.expires_at,
        revoked_at=share.revoked_at,
    )


def _case_ref(case_ref: str) -> str:
    cleaned = case_ref.strip()
    if not cleaned or len(cleaned) > MAX_CASE_REF or not cleaned.isprintable():
        raise ValidationError(f"case_ref must be 1 to {MAX_CASE_REF} printable characters")
    return cleaned


def create_share(
    factory: sessionmaker[Session],
    owner: OrgView,
    public_id: str,
    grantee: str,
    case_ref: str,
    expires_at: datetime | None,
    origin: Origin,
) -> ShareView:
    """Share the owner's evidence `public_id` with organization `grantee` (its slug).

    NotFoundError when the evidence is not the owner's (a grantee sharing onward gets
    this); UnknownOrganizationError for an unknown grantee or one that may not receive
    shares; SelfShareError for the owner itself; ValidationError for an empty case
    reference or an expiry in the past; ConflictError when the grantee already holds an
    active share for the same case.
    """
    ref = _case_ref(case_ref)
    until = stored_time(expires_at) if expires_at is not None else None
    if until is not None and until <= now():
        raise ValidationError("expires_at must be in the future")
    with transaction(factory) as session:
        evidence = owned(session, owner, public_id)
        target = session.scalar(select(Organization).where(Organization.slug == grantee))
        if target is not None and target.id == owner.id:
            raise SelfShareError("an organization cannot share evidence with itself")
        if target is None or Role(target.role) not in GRANTEE_ROLES:
            raise UnknownOrganizationError(f"no organization {grantee!r} that can receive shares")
        same = session.scalar(
            select(Share).where(
                Share.evidence_id == evidence.id,
                Share.grantee_id == target.id,
                Share.case_ref == ref,
                Share.revoked_at.is_(None),
                or_(Share.expires_at.is_(None), Share.expires_at > now()),
            )
        )
        if same is not None:
            raise ConflictError(
                f"evidence {public_id} is already shared with {grantee} for this case "
                f"({same.public_id}); revoke it to change its expiry"
            )
        share = Share(
            public_id="sh_" + secrets.token_hex(12),
            evidence_id=evidence.id,
            owner_id=owner.id,
            grantee_id=target.id,
            case_ref=ref,
            created_at=now(),
            created_by=origin.key_prefix or "",
            expires_at=until,
            revoked_at=None,
            revoked_by=None,
        )
        session.add(share)
        session.flush()
        return _view(share, public_id, owner.slug, target.slug)


def shares_of(factory: sessionmaker[Session], owner: OrgView, public_id: str) -> list[ShareView]:
    """Every share of the owner's evidence (active, expired, revoked), oldest first."""
    grantee = aliased(Organization)
    with transaction(factory) as session:
        evidence = owned(session, owner, public_id)
        rows = session.execute(
            select(Share, grantee.slug)
            .join(grantee, grantee.id == Share.grantee_id)
            .where(Share.evidence_id == evidence.id)
            .order_by(Share.id)
        ).all()
        return [_view(s, public_id, owner.slug, slug) for s, slug in rows]


def revoke_share(
    factory: sessionmaker[Session], owner: OrgView, share_id: str, origin: Origin
) -> None:
    """Revoke a share of the owner's; at once, for every later request. NotFoundError for
    anyone else's share (the grantee's too). Revoking twice keeps the first time."""
    with transaction(factory) as session:
        share = session.scalar(select(Share).where(Share.public_id == share_id))
        if share is None or share.owner_id != owner.id:
            raise NotFoundError(f"no share {share_id!r}")
        if share.revoked_at is None:
            share.revoked_at = now()
            share.revoked_by = origin.key_prefix


def shared_with(
    factory: sessionmaker[Session],
    grantee: OrgView,
    limit: int,
    cursor: str | None,
    origin: Origin,
) -> SharedPage:
    """The active shares the grantee holds, newest first, with their evidence; each item
    shown is recorded in the access log (action `list`: the grantee saw its metadata)."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE}")
    if cursor is not None and not _CURSOR.fullmatch(cursor):
        raise ValidationError("cursor is not one this service issued")
    owner = aliased(Organization)
    stmt = (
        select(Share, Evidence, owner.slug)
        .join(Evidence, Evidence.id == Share.evidence_id)
        .join(owner, owner.id == Share.owner_id)
        .options(selectinload(Evidence.batch))
        .where(
            Share.grantee_id == grantee.id,
            Share.revoked_at.is_(None),
            or_(Share.expires_at.is_(None), Share.expires_at > now()),
        )
    )
    if cursor is not None:
        stmt = stmt.where(Share.id < int(cursor))
    with transaction(factory) as session:
        rows = session.execute(stmt.order_by(Share.id.desc()).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        items = []
        for share, evidence, owner_slug in rows:
            record(session, evidence, share, grantee, "list", origin)
            view = _view(share, evidence.public_id, owner_slug, grantee.slug)
            items.append(SharedItem(view, summary(evidence)))
        return SharedPage(items, str(rows[-1][0].id) if more and rows else None)
