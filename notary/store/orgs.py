"""Organizations and API keys.

A key reads `nk_<prefix>_<secret>`. The prefix finds the row; only SHA-256 of the secret is
stored (the secret is 256 random bits, so a slow password hash would add nothing), and it
is compared in constant time. The full key is returned once, at creation, never again.

A key may expire (`expires_at`, then 401 key_expired). Rotating a key creates a new one for
the same organization and lets the old one work for a grace period only, so clients can be
switched over without an outage. `last_used_at` is written when a key is checked against
the database, at most once every LAST_USED_PRECISION per key: the KeyCache answers most
requests from memory, and a write per request would cost the deposit path its speed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, sessionmaker

from notary.errors import (
    AuthenticationError,
    ConflictError,
    KeyExpiredError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from notary.store.db import transaction
from notary.store.models import ApiKey, Organization, Role

SLUG_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9-]{1,62}[a-z0-9]")
KEY_PATTERN: Final = re.compile(r"nk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})")
PREFIX_PATTERN: Final = re.compile(r"[a-z0-9]{12}")
LAST_USED_PRECISION: Final = timedelta(minutes=1)
"""A key's last use is recorded at most this often (one small write a minute per key)."""
DEFAULT_GRACE: Final = timedelta(hours=24)
"""How long a rotated key keeps working beside its successor, unless told otherwise."""
MAX_GRACE: Final = timedelta(days=30)
MAX_KEY_LIFETIME: Final = timedelta(days=3660)
"""Longest expires_in accepted (ten years): beyond it, give no expiry."""


@dataclass(frozen=True)
class OrgView:
    id: int
    slug: str
    name: str
    role: Role
    require_signature: bool = False
    """Deposits must carry a depositor signature (notary.deposit.signing); as of when the
    view was read (the KeyCache keeps it up to key_cache_seconds)."""


@dataclass(frozen=True)
class NewKey:
    """A freshly created key. `secret` is the only copy: show it once."""

    organization: OrgView
    prefix: str
    secret: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key: never its secret, nor the secret's hash."""

    organization: str
    prefix: str
    label: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime | None = None) -> str:
        """active, expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or _now()):
            return "expired"
        return "active"


def _view(org: Organization) -> OrgView:
    return OrgView(org.id, org.slug, org.name, Role(org.role), bool(org.require_signature))


def _now() -> datetime:
    return datetime.now(UTC)


def utc(at: datetime) -> datetime:
    """A stored time as an aware UTC datetime: the database gives UTC back without a zone."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _maybe_utc(at: datetime | None) -> datetime | None:
    return None if at is None else utc(at)


def _info(key: ApiKey, slug: str) -> KeyInfo:
    return KeyInfo(
        organization=slug,
        prefix=key.prefix,
        label=key.label,
        created_at=utc(key.created_at),
        last_used_at=_maybe_utc(key.last_used_at),
        expires_at=_maybe_utc(key.expires_at),
        revoked_at=_maybe_utc(key.revoked_at),
    )


def _check_expiry(expires_at: datetime | None) -> datetime | None:
    if expires_at is None:
        return None
    if expires_at.tzinfo is None or expires_at.utcoffset() is None:
        raise ValidationError("expires_at needs a zone: end it with Z or an offset")
    if expires_at <= _now():
        raise ValidationError("expires_at must be in the future")
    try:
        return expires_at.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59-01:00: past the last datetime once in UTC
        raise ValidationError("expires_at is beyond the year 9999") from None


def expiry(expires_at: datetime | None, expires_in: float | None) -> datetime | None:
    """A key's expiry given as a time or as seconds from now (not both; neither: none)."""
    if expires_at is not None and expires_in is not None:
        raise ValidationError("give expires_at or expires_in, not both")
    if expires_in is not None:
        if not 0 < expires_in <= MAX_KEY_LIFETIME.total_seconds():
            raise ValidationError(
                f"expires_in must be 1 second to {MAX_KEY_LIFETIME.days} days (in seconds)"
            )
        return _now() + timedelta(seconds=expires_in)
    return expires_at


def _check_prefix(prefix: str) -> str:
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise NotFoundError(f"no API key {prefix!r}")
    return prefix


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


def create_key(
    factory: sessionmaker[Session],
    slug: str,
    label: str = "",
    expires_at: datetime | None = None,
) -> NewKey:
    """Create an API key for organization `slug` (expiring at `expires_at`, if given); the
    secret is in the result only."""
    expires_at = _check_expiry(expires_at)
    with transaction(factory) as session:
        org = session.scalar(select(Organization).where(Organization.slug == slug))
        if org is None:
            raise NotFoundError(f"no organization {slug!r}")
        return _add_key(session, org, label, expires_at)


def _add_key(
    session: Session, org: Organization, label: str, expires_at: datetime | None
) -> NewKey:
    if len(label) > 128:
        raise ValidationError("key label must be at most 128 characters")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            organization_id=org.id,
            prefix=prefix,
            label=label,
            secret_sha256=hashlib.sha256(secret.encode()).digest(),
            created_at=_now(),
            revoked_at=None,
            expires_at=expires_at,
            last_used_at=None,
        )
    )
    return NewKey(_view(org), prefix, f"nk_{prefix}_{secret}", expires_at)


def key_info(factory: sessionmaker[Session], prefix: str) -> KeyInfo:
    """What may be shown about one key; NotFoundError if there is none."""
    with transaction(factory) as session:
        key = session.scalar(
            select(ApiKey)
            .options(joinedload(ApiKey.organization))
            .where(ApiKey.prefix == _check_prefix(prefix))
        )
        if key is None:
            raise NotFoundError(f"no API key {prefix!r}")
        return _info(key, key.organization.slug)


def list_keys(factory: sessionmaker[Session], slug: str) -> list[KeyInfo]:
    """Every key of organization `slug`, revoked and expired ones included, oldest first."""
    with transaction(factory) as session:
        org = session.scalar(select(Organization).where(Organization.slug == slug))
        if org is None:
            raise NotFoundError(f"no organization {slug!r}")
        keys = session.scalars(
            select(ApiKey).where(ApiKey.organization_id == org.id).order_by(ApiKey.id)
        )
        return [_info(k, slug) for k in keys]


def rotate_key(
    factory: sessionmaker[Session],
    prefix: str,
    grace: timedelta = DEFAULT_GRACE,
    label: str | None = None,
    expires_at: datetime | None = None,
) -> NewKey:
    """A new key for the organization of key `prefix`, which keeps working for `grace` only
    (an earlier expiry it already had stays). The new key takes the old one's label unless
    given one. ConflictError for a revoked key: a leaked key is revoked, not rotated."""
    if not timedelta(0) <= grace <= MAX_GRACE:
        raise ValidationError(f"grace must be between 0 and {MAX_GRACE.days} days")
    expires_at = _check_expiry(expires_at)
    with transaction(factory) as session:
        old = session.scalar(
            select(ApiKey)
            .options(joinedload(ApiKey.organization))
            .where(ApiKey.prefix == _check_prefix(prefix))
        )
        if old is None:
            raise NotFoundError(f"no API key {prefix!r}")
        if old.revoked_at is not None:
            raise ConflictError(f"API key {prefix} is revoked; create a new key instead")
        ends = _now() + grace
        if old.expires_at is None or utc(old.expires_at) > ends:
            old.expires_at = ends
        return _add_key(
            session, old.organization, old.label if label is None else label, expires_at
        )


def revoke_key(factory: sessionmaker[Session], prefix: str) -> None:
    with transaction(factory) as session:
        key = session.scalar(select(ApiKey).where(ApiKey.prefix == _check_prefix(prefix)))
        if key is None:
            raise NotFoundError(f"no API key {prefix!r}")
        if key.revoked_at is None:
            key.revoked_at = _now()


def authenticate(factory: sessionmaker[Session], presented: str) -> OrgView:
    """The organization a presented key belongs to; AuthenticationError otherwise
    (KeyExpiredError past its expiry). Records the key's use (see LAST_USED_PRECISION)."""
    return check_key(factory, presented)[0]


def check_key(factory: sessionmaker[Session], presented: str) -> tuple[OrgView, datetime | None]:
    """authenticate, also giving the key's expiry (for the KeyCache)."""
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
        now = _now()
        expires = _maybe_utc(key.expires_at)
        if expires is not None and expires <= now:
            raise KeyExpiredError(f"API key {prefix} expired at {expires.isoformat()}")
        last = key.last_used_at
        if last is None or now - utc(last) >= LAST_USED_PRECISION:
            key.last_used_at = now
        return _view(key.organization), expires


class KeyCache:
    """Keys checked recently, so a busy client costs no database read per request.

    Only successes are kept, for `ttl` seconds (never past the key's expiry), under the
    SHA-256 of the presented key (the key itself is not kept). A key revoked by another
    process (`notary admin revoke-key`) stops working within `ttl`; `forget` (the admin
    API's revoke and rotate) ends it at once.
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
        org, expires = check_key(self.factory, presented)
        if self.ttl > 0:
            match = KEY_PATTERN.fullmatch(presented.strip())
            assert match is not None  # authenticate accepted it
            digest = hashlib.sha256(presented.encode()).digest()
            with self._lock:
                if len(self._entries) >= self.MAX_ENTRIES:
                    self._entries.clear()
                until = time.monotonic() + self.ttl
                if expires is not None:
                    until = min(until, time.monotonic() + (expires - _now()).total_seconds())
                self._entries[digest] = (match.group(1), org, until)
        return org

    def forget(self, prefix: str) -> None:
        """Drop the key with this prefix (it was just revoked or rotated)."""
        with self._lock:
            for digest in [d for d, (p, _, _) in self._entries.items() if p == prefix]:
                del self._entries[digest]
