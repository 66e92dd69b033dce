"""Watch lists: which of an organization's designs captures are matched against.

An organization without a row watches all its fingerprinted designs and discloses nothing
to finders (the defaults). `mode: tags` watches the designs carrying any of `tags`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy.orm import Session, sessionmaker

from notary.deposit.metadata import MAX_TAG_LENGTH
from notary.errors import ValidationError
from notary.store.db import transaction
from notary.store.models import WatchList
from notary.store.orgs import OrgView

MODES: Final = ("all", "tags")
MAX_WATCH_TAGS: Final = 100
"""Most tags one watch list may name."""


@dataclass(frozen=True)
class WatchSettings:
    mode: str = "all"
    tags: tuple[str, ...] = ()
    disclose_to_finders: bool = False

    def watches(self, tags: set[str] | frozenset[str]) -> bool:
        """Whether a design with these tags is watched."""
        return self.mode == "all" or not tags.isdisjoint(self.tags)


DEFAULT: Final = WatchSettings()


def check(settings: WatchSettings) -> WatchSettings:
    """The settings as stored (tags sorted, deduplicated); ValidationError otherwise."""
    if settings.mode not in MODES:
        raise ValidationError("mode must be all or tags")
    tags = tuple(sorted(set(settings.tags)))
    if len(tags) > MAX_WATCH_TAGS:
        raise ValidationError(f"at most {MAX_WATCH_TAGS} tags")
    for tag in tags:
        if not tag or len(tag) > MAX_TAG_LENGTH or not tag.isprintable():
            raise ValidationError(f"tags must be 1 to {MAX_TAG_LENGTH} printable characters")
    if settings.mode == "tags" and not tags:
        raise ValidationError("mode tags needs at least one tag")
    return WatchSettings(settings.mode, tags, settings.disclose_to_finders)


def _settings(row: WatchList | None) -> WatchSettings:
    if row is None:
        return DEFAULT
    return WatchSettings(row.mode, tuple(row.tags), row.disclose_to_finders)


def read(session: Session, org_id: int) -> WatchSettings:
    return _settings(session.get(WatchList, org_id))


def get(factory: sessionmaker[Session], org: OrgView) -> WatchSettings:
    with transaction(factory) as session:
        return read(session, org.id)


def put(factory: sessionmaker[Session], org: OrgView, settings: WatchSettings) -> WatchSettings:
    """Replace the organization's watch list; the stored settings."""
    clean = check(settings)
    with transaction(factory) as session:
        row = session.get(WatchList, org.id)
        if row is None:
            row = WatchList(organization_id=org.id)
            session.add(row)
        row.mode = clean.mode
        row.tags = list(clean.tags)
        row.disclose_to_finders = clean.disclose_to_finders
        row.updated_at = datetime.now(UTC)
    return clean


def all_lists(session: Session) -> dict[int, tuple[WatchSettings, datetime]]:
    """Every stored watch list, by organization, with when it last changed."""
    return {
        row.organization_id: (_settings(row), row.updated_at)
        for row in session.query(WatchList).all()
    }
