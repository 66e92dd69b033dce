"""Organizations and API keys.

A key reads `nk_<prefix>_<secret>`. The prefix finds the row; only SHA-256 of the secret is
stored (the secret is 256 random bits, so a slow password hash would add nothing), and it
is compared in constant time. The full key is returned once, at creation, never again.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, sessionmaker

from notary.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from notary.store.db import transaction
from notary.store.models import ApiKey, Organization, Role

SLUG_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9-]{1,62}[a-z0-9]")
KEY_PATTERN: Final = re.compile(r"nk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class OrgView:
    id: int
    slug: str
    name: str
    role: Role


@dataclass(frozen=True)
class NewKey:
    """A freshly created key. `secret` is the only copy: show it once."""

    organization: OrgView
    prefix: str
    secret: str


def _view(org: Organization) -> OrgView:
    return OrgView(org.id, org.slug, org.name, Role(org.role))


def _now() -> datetime:
    return datetime.now(UTC)


def create_organization(
    factory: sessionmaker[Session], slug: str, name: str, role: Role
) -> OrgView:
    """Create an organization; ConflictError if the slug is taken (also when a concurrent
    request takes it first)."""
    if not SLUG_PATTERN.fullmatch(slug):
        raise ValidationError(f"organization slug must match {SLUG_PATTERN.pattern}")
    if not name.strip() or len(name) > 256 or not name.isprintable():
        raise ValidationError("organization name must be 1 to 256 printable characters")
    exists = ConflictError(f"organization {slug!r} already exists")
    try:
        with transaction(factory) as session:
            if session.scalar(select(Organization).where(Organization.slug == slug)):
                raise exists
            org = Organization(slug=slug, name=name.strip(), role=role.value, created_at=_now())
            session.add(org)
            session.flush()
            return _view(org)
    except StorageError as exc:
        # another request created the same slug between our check and our insert
        if isinstance(exc.__cause__, IntegrityError):
            raise exists from exc
        raise


def list_organizations(factory: sessionmaker[Session]) -> list[OrgView]:
    with transaction(factory) as session:
        return [_view(o) for o in session.scalars(select(Organization).order_by(Organization.id))]


def create_key(factory: sessionmaker[Session], slug: str, label: str = "") -> NewKey:
    """Create an API key for organization `slug`; the secret is in the result only."""
    if len(label) > 128:
        raise ValidationError("key label must be at most 128 characters")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction(factory) as session:
        org = session.scalar(select(Organization).where(Organization.slug == slug))
        if org is None:
            raise NotFoundError(f"no organization {slug!r}")
        session.add(
            ApiKey(
                organization_id=org.id,
                prefix=prefix,
                label=label,
                secret_sha256=hashlib.sha256(secret.encode()).digest(),
                created_at=_now(),
                revoked_at=None,
            )
        )
        return NewKey(_view(org), prefix, f"nk_{prefix}_{secret}")


def revoke_key(factory: sessionmaker[Session], prefix: str) -> None:
    with transaction(factory) as session:
        key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if key is None:
            raise NotFoundError(f"no API key {prefix!r}")
        if key.revoked_at is None:
            key.revoked_at = _now()


def authenticate(factory: sessionmaker[Session], presented: str) -> OrgView:
    """The organization a presented key belongs to; AuthenticationError otherwise."""
    match = KEY_PATTERN.fullmatch(presented.strip())
    if match is None:
        raise AuthenticationError("malformed API key")
    prefix, secret = match.groups()
    with transaction(factory) as session:
        key = session.scalar(
            select(ApiKey).options(joinedload(ApiKey.organization)).where(ApiKey.prefix == prefix)
        )
        digest = hashlib.sha256(secret.encode()).digest()
        if key is None or not hmac.compare_digest(key.secret_sha256, digest):
            raise AuthenticationError("unknown API key")
        if key.revoked_at is not None:
            raise AuthenticationError("revoked API key")
        return _view(key.organization)


class KeyCache:
    """Keys checked recently, so a busy client costs no database read per request.

    Only successes are kept, for `ttl` seconds, under the SHA-256 of the presented key (the
    key itself is not kept). A key revoked by another process (`notary admin revoke-key`)
    stops working within `ttl`; `forget` (the admin API's revoke) ends it at once.
    """

    MAX_ENTRIES: Final = 10_000

    def __init__(self, factory: sessionmaker[Session], ttl: float) -> None:
        self.factory = factory
        self.ttl = ttl
        self._entries: dict[bytes, tuple[str, OrgView, float]] = {}
        self._lock = threading.Lock()

    def cached(self, presented: str) -> OrgView | None:
        """The organization if the key was checked less than `ttl` ago; no database read."""
        digest = hashlib.sha256(presented.encode()).digest()
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry[2] <= time.monotonic():
                del self._entries[digest]
                return None
            return entry[1]

    def authenticate(self, presented: str) -> OrgView:
        """Check against the database (AuthenticationError) and remember a success."""
        org = authenticate(self.factory, presented)
        if self.ttl > 0:
            match = KEY_PATTERN.fullmatch(presented.strip())
            assert match is not None  # authenticate accepted it
            digest = hashlib.sha256(presented.encode()).digest()
            with self._lock:
                if len(self._entries) >= self.MAX_ENTRIES:
                    self._entries.clear()
                self._entries[digest] = (match.group(1), org, time.monotonic() + self.ttl)
        return org

    def forget(self, prefix: str) -> None:
        """Drop the key with this prefix (it was just revoked)."""
        with self._lock:
            for digest in [d for d, (p, _, _) in self._entries.items() if p == prefix]:
                del self._entries[digest]
