"""An organization's depositor keys and its signature requirement, as this notary records them.

The record of who a key speaks for that counts is the ConsortiumRegistry's (a DEPOSITOR
member with the organization's id and name, docs/certificate-v2.md); these rows track the
registration through its states (pending until the consortium's change is applied, active,
removing, removed) and answer the deposit path's question "is this a key of this
organization now" without a chain call per deposit. A key is only ever one organization's:
registering an address another organization has (had) is a DepositorKeyTakenError.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from eth_utils.address import to_checksum_address
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from notary.errors import DepositorKeyTakenError, NotFoundError, ValidationError
from notary.store.db import transaction
from notary.store.models import DepositorKey, DepositorKeyState, Organization
from notary.store.orgs import OrgView


@dataclass(frozen=True)
class DepositorKeyView:
    address: str
    name: str
    state: str
    registered_at: datetime
    added_tx: str | None
    removed_at: datetime | None
    removed_tx: str | None
    last_refusal: str | None = None
    """Why an endorser last refused the key's open change (None: no refusal)."""


def _view(row: DepositorKey) -> DepositorKeyView:
    return DepositorKeyView(
        row.address,
        row.name,
        row.state,
        row.registered_at,
        row.added_tx,
        row.removed_at,
        row.removed_tx,
        row.last_refusal,
    )


def checksummed(address: str) -> str:
    """`address` in EIP-55 (ValidationError when it is no address)."""
    try:
        return str(to_checksum_address(address))
    except ValueError as exc:
        raise ValidationError(f"{address!r} is not an address (0x + 40 hex digits)") from exc


def keys_of(factory: sessionmaker[Session], org: OrgView) -> list[DepositorKeyView]:
    """The organization's keys, every state, oldest first."""
    with transaction(factory) as session:
        rows = session.scalars(
            select(DepositorKey)
            .where(DepositorKey.organization_id == org.id)
            .order_by(DepositorKey.id)
        ).all()
        return [_view(r) for r in rows]


def active_keys(factory: sessionmaker[Session], org: OrgView) -> dict[str, str]:
    """{address: member name} of the organization's active keys (those a deposit may be
    signed with)."""
    with transaction(factory) as session:
        rows = session.execute(
            select(DepositorKey.address, DepositorKey.name).where(
                DepositorKey.organization_id == org.id,
                DepositorKey.state == DepositorKeyState.ACTIVE.value,
            )
        ).all()
        return {address: name for address, name in rows}


def key_name(session: Session, address: str) -> str | None:
    """The member name a key was registered with (certificates carry it), or None."""
    return session.scalar(select(DepositorKey.name).where(DepositorKey.address == address))


def begin_add(
    factory: sessionmaker[Session],
    org: OrgView,
    address: str,
    name: str,
    registry: str,
    consent: bytes | None = None,
) -> DepositorKeyView:
    """Record `address` as the organization's key, pending the consortium's change, with
    the key's `consent` (what the endorsers check). A removed key of the same organization
    may be registered again."""
    address = checksummed(address)
    with transaction(factory) as session:
        row = session.scalar(select(DepositorKey).where(DepositorKey.address == address))
        if row is not None and row.organization_id != org.id:
            raise DepositorKeyTakenError(f"{address} is registered for another organization")
        if row is not None and row.state != DepositorKeyState.REMOVED.value:
            raise DepositorKeyTakenError(f"{address} is already registered ({row.state})")
        now = datetime.now(UTC)
        if row is None:
            row = DepositorKey(organization_id=org.id, address=address)
            session.add(row)
        row.name, row.registry_address, row.consent = name, registry, consent
        row.state, row.registered_at = DepositorKeyState.PENDING.value, now
        row.added_tx = row.removed_at = row.removed_tx = row.last_refusal = None
        row.change_nonce = row.change_threshold = row.change_deadline = None
        row.change_digest = None
        session.flush()
        return _view(row)


def begin_remove(factory: sessionmaker[Session], org: OrgView, address: str) -> DepositorKeyView:
    """Mark an active (or pending) key of the organization for removal."""
    address = checksummed(address)
    with transaction(factory) as session:
        row = _own(session, org, address)
        if row.state == DepositorKeyState.PENDING.value:  # never on chain: just forget it
            row.state, row.removed_at = DepositorKeyState.REMOVED.value, datetime.now(UTC)
        elif row.state == DepositorKeyState.ACTIVE.value:
            row.state = DepositorKeyState.REMOVING.value
        row.change_nonce = row.change_threshold = row.change_deadline = None
        row.change_digest = row.last_refusal = None  # the open change is another one now
        return _view(row)


def settle(factory: sessionmaker[Session], address: str, tx_hash: str) -> DepositorKeyView:
    """The consortium's change for `address` was applied in `tx_hash`: pending becomes
    active, removing becomes removed."""
    with transaction(factory) as session:
        row = session.scalar(select(DepositorKey).where(DepositorKey.address == address))
        if row is None:
            raise NotFoundError(f"no depositor key {address}")
        row.change_nonce = row.change_threshold = row.change_deadline = None
        row.change_digest = None
        if row.state == DepositorKeyState.PENDING.value:
            row.state, row.added_tx = DepositorKeyState.ACTIVE.value, tx_hash
        elif row.state == DepositorKeyState.REMOVING.value:
            row.state, row.removed_tx = DepositorKeyState.REMOVED.value, tx_hash
            row.removed_at = datetime.now(UTC)
        return _view(row)


def _own(session: Session, org: OrgView, address: str) -> DepositorKey:
    row = session.scalar(
        select(DepositorKey).where(
            DepositorKey.address == address, DepositorKey.organization_id == org.id
        )
    )
    if row is None:
        raise NotFoundError(f"{address} is not a depositor key of this organization")
    return row


def require_signature(factory: sessionmaker[Session], org: OrgView) -> bool:
    with transaction(factory) as session:
        return bool(
            session.scalar(select(Organization.require_signature).where(Organization.id == org.id))
        )


def set_require_signature(factory: sessionmaker[Session], org: OrgView, required: bool) -> None:
    with transaction(factory) as session:
        row = session.get(Organization, org.id)
        if row is None:
            raise NotFoundError(f"no organization {org.slug}")
        row.require_signature = required
