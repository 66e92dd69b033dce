"""The access log of a piece of evidence, as the API and the court bundle show it.

The owner sees every entry. A grantee sees its own organization's entries, the owner's and
the keyless lookups', not those of other grantees (another case's court or regulator: their
case references and addresses are theirs). The bundle carries the log as its downloader
sees it, up to and including that download (`access-log.json`), once the evidence has
been shared.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from notary.share.access import admit, was_shared
from notary.store.db import transaction
from notary.store.models import AccessLog, Organization, Share
from notary.store.orgs import OrgView

BUNDLE_NAME: Final = "access-log.json"
"""The access log's name inside a court bundle."""


@dataclass(frozen=True)
class AccessEntry:
    at: datetime
    organization: str | None
    """The reader's organization (slug); None for the keyless public lookup."""
    key_prefix: str | None
    action: str
    remote: str | None
    share: str | None
    """The share read through (sh_...); None for the owner and the public lookup."""
    case_ref: str | None


def entries(factory: sessionmaker[Session], org: OrgView, public_id: str) -> list[AccessEntry]:
    """The evidence's access log as `org` may see it, oldest first; NotFoundError unless
    `org` owns the evidence or holds an active share of it."""
    reader = aliased(Organization)
    with transaction(factory) as session:
        evidence, share = admit(session, org, public_id)
        stmt = (
            select(AccessLog, reader.slug, Share.public_id, Share.case_ref)
            .outerjoin(reader, reader.id == AccessLog.organization_id)
            .outerjoin(Share, Share.id == AccessLog.share_id)
            .where(AccessLog.evidence_id == evidence.id)
        )
        if share is not None:  # a grantee: its own, the owner's, the anonymous ones
            stmt = stmt.where(
                or_(
                    AccessLog.organization_id.is_(None),
                    AccessLog.organization_id.in_((org.id, evidence.organization_id)),
                )
            )
        rows = session.execute(stmt.order_by(AccessLog.id)).all()
        return [
            AccessEntry(
                at=row.at.replace(tzinfo=UTC),
                organization=slug,
                key_prefix=row.key_prefix,
                action=row.action,
                remote=row.remote,
                share=share_id,
                case_ref=case_ref,
            )
            for row, slug, share_id, case_ref in rows
        ]


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def render(evidence_id: str, log: list[AccessEntry]) -> bytes:
    """The log as UTF-8 JSON (times in UTC with Z)."""
    document = {
        "evidence": evidence_id,
        "entries": [
            {
                "at": _utc(e.at),
                "organization": e.organization,
                "key_prefix": e.key_prefix,
                "action": e.action,
                "remote": e.remote,
                "share": e.share,
                "case_ref": e.case_ref,
            }
            for e in log
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def access_log_json(factory: sessionmaker[Session], org: OrgView, public_id: str) -> bytes:
    """The access log of `public_id` as `org` sees it, as JSON bytes (for the bundle)."""
    return render(public_id, entries(factory, org, public_id))


def bundle_extras(factory: sessionmaker[Session], org: OrgView, public_id: str) -> dict[str, bytes]:
    """The court bundle's extra members for `org`'s download: `access-log.json` when the
    evidence was ever shared (the log then holds this download), nothing otherwise (no
    access to it is recorded, and an empty log would say nothing)."""
    with transaction(factory) as session:
        evidence, _ = admit(session, org, public_id)
        if not was_shared(session, evidence.id):
            return {}
    return {BUNDLE_NAME: access_log_json(factory, org, public_id)}
