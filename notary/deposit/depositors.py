"""Depositor keys: registering an organization's signing keys in the consortium, and the
signing policy its deposits are checked against (notary.deposit.signing).

How a court learns that key A speaks for organization O without the operator's word: A is a
DEPOSITOR member of the ConsortiumRegistry with organization id keccak256(O's depositor
identity) and O's name, added by a configuration change that k endorsers approved
(docs/consortium.md); a verifier replays the MemberSet / MemberRemoved events up to the
anchor (docs/certificate-v2.md, step D2). The notary records the registration's progress
(notary.store.depositor_keys) but its record is not what a certificate relies on.

Registering needs the key's own consent, an EIP-712 `DepositorKey(account, depositor)`
signature (proof that the registrant holds it: nobody registers another's address as
theirs). On the devnet the change is approved at once with the endorsers' keys in the data
directory (notary.ops.depositors); elsewhere it stays pending until the consortium applies it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from notary.chain import eip712
from notary.chain.consortium import ConsortiumReader
from notary.chain.eip712 import MemberChange, Role
from notary.config import Settings
from notary.core.depositor import organization_id
from notary.deposit.request import depositor_of
from notary.deposit.signing import SigningPolicy
from notary.errors import DepositorKeyTakenError, NotFoundError, ValidationError
from notary.ops.depositors import DevnetApprover, depositor_change
from notary.store import depositor_keys as store
from notary.store.depositor_keys import DepositorKeyView
from notary.store.models import DepositorKeyState
from notary.store.orgs import OrgView

MAX_NAME_BYTES = 128
"""The registry's MAX_NAME_LENGTH: a longer organization name is cut (at a character)."""


@dataclass(frozen=True)
class SigningInfo:
    """What a depositor needs to sign, and the organization's keys and requirement."""

    depositor: str
    chain_id: int
    registry: str
    require_signature: bool
    keys: list[DepositorKeyView]


def member_name(name: str) -> str:
    """`name` cut to at most MAX_NAME_BYTES UTF-8 bytes, at a character boundary."""
    data = name.encode("utf-8")[:MAX_NAME_BYTES]
    return data.decode("utf-8", "ignore") or "?"


class DepositorKeys:
    """The depositor keys of this notary's organizations (consortium mode only)."""

    def __init__(
        self, settings: Settings, factory: sessionmaker[Session], reader: ConsortiumReader
    ) -> None:
        self.factory = factory
        self.reader = reader
        self._chain_id: int | None = None
        self.approver = DevnetApprover.load(settings, reader)

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self.reader.chain_id()
        return self._chain_id

    def info(self, org: OrgView) -> SigningInfo:
        return SigningInfo(
            depositor_of(org),
            self.chain_id,
            self.reader.address,
            store.require_signature(self.factory, org),
            store.keys_of(self.factory, org),
        )

    def policy(self, org: OrgView) -> SigningPolicy:
        """What this organization's deposits are checked against now."""
        return SigningPolicy(
            self.chain_id,
            self.reader.address,
            depositor_of(org),
            frozenset(store.active_keys(self.factory, org)),
            store.require_signature(self.factory, org),
        )

    def set_required(self, org: OrgView, required: bool) -> None:
        store.set_require_signature(self.factory, org, required)

    def add(self, org: OrgView, address: str, proof: bytes) -> DepositorKeyView:
        """Register `address` (with its consent `proof`) as a key of `org`."""
        address = store.checksummed(address)
        identity = depositor_of(org)
        typed = eip712.depositor_key_typed_data(
            self.chain_id, self.reader.address, address, identity
        )
        signer = eip712.recover(typed, proof)
        if signer != address:
            raise ValidationError(
                f"proof: the consent recovers to {signer}, not to {address}: sign "
                f"DepositorKey(account {address}, depositor {identity!r}) with that key"
            )
        held = self.reader.member(address)
        if held.role is not Role.NONE and not (
            held.role is Role.DEPOSITOR and held.organization == organization_id(identity)
        ):
            raise DepositorKeyTakenError(
                f"{address} is already a member of the consortium ({held.role.name}, "
                f"organization 0x{held.organization.hex()})"
            )
        view = store.begin_add(
            self.factory, org, address, member_name(org.name), self.reader.address, proof
        )
        if self.approver is None:
            return view
        change = depositor_change(address, organization_id(identity), view.name)
        try:
            tx = self.approver.apply([change])
        except Exception:
            store.begin_remove(self.factory, org, address)  # a pending row is forgotten
            raise
        return store.settle(self.factory, address, tx)

    def remove(self, org: OrgView, address: str) -> DepositorKeyView:
        """Remove a key of `org` (from the consortium once the change is applied)."""
        view = store.begin_remove(self.factory, org, address)
        if view.state != DepositorKeyState.REMOVING.value or self.approver is None:
            return view
        if self.reader.member(view.address).role is not Role.DEPOSITOR:  # already gone
            return store.settle(self.factory, view.address, "")
        tx = self.approver.apply([MemberChange.remove(view.address)])
        return store.settle(self.factory, view.address, tx)


def no_consortium() -> NotFoundError:
    return NotFoundError(
        "this notary anchors on a single-operator registry: depositor keys and signatures "
        "need the consortium registry (NOTARY_CONSORTIUM_ENDORSERS > 0)"
    )
