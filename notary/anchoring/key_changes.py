"""Depositor key changes approved by the consortium's endorser nodes (docs/consortium.md,
"Depositor key changes").

A depositor key becomes a DEPOSITOR member of the ConsortiumRegistry (and stops being one)
only through `changeConfig` with EIP-712 approvals of k current endorsers. Outside the
devnet those endorsers are other organizations running `notary endorser run` with their
own keys, so the notary does for key changes what it does for batches:

- it proposes each open change (a key `pending` with its consent, or `removing`) at the
  registry's current config nonce and threshold, with a deadline CHANGE_LIFETIME seconds
  after the latest block's time, and lists it at GET /v1/consortium/key-changes with what
  an endorser needs to check it itself (the key's consent and the depositor identity it
  was signed for);
- it stores an approval (POST .../key-changes/{digest}/approvals) only when it recovers,
  over the change as proposed, to a current ENDORSER;
- the anchoring process (whose account owns the notary's transaction nonces, so nothing
  else sends from it) relays a change with k approvals through `changeConfig`, one change
  per cycle: each consumes the config nonce, so the others are proposed again at the new
  nonce (as is one whose deadline comes near) and approved again;
- a change found applied on chain, by us before a kill -9 or by anyone, settles the key
  (pending -> active, removing -> removed) with the transaction that applied it.

Every step is a committed row change, read back from the database and the chain at each
cycle: a crash of the service or of an endorser loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from notary.chain import eip712
from notary.chain.consortium import ConsortiumReader, ConsortiumWriter, Member
from notary.chain.eip712 import MemberChange, Role
from notary.core.depositor import organization_id
from notary.errors import ChainError, ConflictError, NotFoundError
from notary.store import depositor_keys as keys_store
from notary.store.db import transaction
from notary.store.models import DepositorKey, DepositorKeyState, KeyApproval, Organization

log = logging.getLogger("notary.anchoring.key_changes")

CHANGE_LIFETIME: Final = 900
"""Seconds from the latest block's time to a proposed change's deadline (an endorser
refuses deadlines more than an hour ahead: docs/consortium.md)."""
RENEW_BEFORE: Final = 120
"""A change whose deadline is this close (in block time) is proposed again: k approvals
collected in the last seconds could not be relayed in time."""
MAX_LISTED: Final = 100


@dataclass(frozen=True)
class KeyChange:
    """A depositor key change as proposed: what an endorser checks and signs."""

    account: str
    role: Role
    """DEPOSITOR (add the key) or NONE (remove it)."""
    organization: bytes
    """The change's organization id: keccak256(depositor) to add, 32 zero bytes to remove."""
    name: str
    depositor: str
    """The organization's depositor identity ("org:<slug>"): the consent is signed for it,
    and the organization id is its keccak256."""
    consent: bytes | None
    """The key's EIP-712 DepositorKey(account, depositor) signature (adds only)."""
    threshold: int
    nonce: int
    deadline: int
    chain_id: int
    registry: str
    approvals: int = 0

    def member_change(self) -> MemberChange:
        return MemberChange(self.account, self.role, self.organization, self.name)

    def typed_data(self) -> dict[str, Any]:
        """The EIP-712 ConfigChange the endorsers sign (the threshold unchanged)."""
        return eip712.config_change_typed_data(
            self.chain_id,
            self.registry,
            [self.member_change()],
            self.threshold,
            self.nonce,
            self.deadline,
        )

    def digest(self) -> bytes:
        return eip712.digest(self.typed_data())


def _now() -> datetime:
    return datetime.now(UTC)


def _depositor(session: Session, row: DepositorKey) -> str:
    """The depositor identity of the key's organization (as notary.deposit.request's
    depositor_of: "org:<slug>")."""
    slug = session.scalar(select(Organization.slug).where(Organization.id == row.organization_id))
    return f"org:{slug}"


def _open() -> ColumnElement[bool]:
    """Rows with an open change: an add with its consent, or a removal."""
    return or_(
        (DepositorKey.state == DepositorKeyState.PENDING.value) & DepositorKey.consent.is_not(None),
        DepositorKey.state == DepositorKeyState.REMOVING.value,
    )


class KeyChanges:
    """The notary's side of depositor key changes on one ConsortiumRegistry."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        reader: ConsortiumReader,
        endorser: Callable[[str], Member],
        chain_id: Callable[[], int],
        lifetime: int = CHANGE_LIFETIME,
    ) -> None:
        self.factory = factory
        self.reader = reader
        self.endorser = endorser
        """The member record of a current ENDORSER (ForbiddenError for anyone else)."""
        self.chain_id = chain_id
        self.lifetime = lifetime

    def _change(self, session: Session, row: DepositorKey, approvals: int = 0) -> KeyChange:
        assert row.change_nonce is not None and row.change_deadline is not None
        assert row.change_threshold is not None
        depositor = _depositor(session, row)
        adding = row.state == DepositorKeyState.PENDING.value
        return KeyChange(
            row.address,
            Role.DEPOSITOR if adding else Role.NONE,
            organization_id(depositor) if adding else bytes(32),
            row.name if adding else "",
            depositor,
            row.consent if adding else None,
            row.change_threshold,
            row.change_nonce,
            row.change_deadline,
            self.chain_id(),
            self.reader.address,
            approvals,
        )

    # -- for the endorsers (API) -------------------------------------------------------

    def proposed(self) -> list[KeyChange]:
        """Open changes as proposed, oldest first (at most MAX_LISTED)."""
        with transaction(self.factory) as session:
            rows = session.scalars(
                select(DepositorKey)
                .where(_open())
                .where(DepositorKey.change_digest.is_not(None))
                .order_by(DepositorKey.id)
                .limit(MAX_LISTED)
            ).all()
            counts: dict[bytes, int] = {}
            for digest in session.scalars(
                select(KeyApproval.digest).where(
                    KeyApproval.digest.in_([r.change_digest for r in rows])
                )
            ):
                counts[digest] = counts.get(digest, 0) + 1
            return [self._change(session, r, counts.get(r.change_digest or b"", 0)) for r in rows]

    def approve(self, digest: bytes, signature: bytes) -> str:
        """Store an endorser's approval of the change proposed with `digest`; its signer.
        NotFoundError (no such proposal), ConflictError (proposed again since, or settled),
        ValidationError (bad signature), ForbiddenError (not a current endorser)."""
        with transaction(self.factory) as session:
            row = session.scalar(select(DepositorKey).where(DepositorKey.change_digest == digest))
            if row is None:
                if session.scalar(select(KeyApproval.id).where(KeyApproval.digest == digest)):
                    raise ConflictError(f"change 0x{digest.hex()} was proposed again or applied")
                raise NotFoundError(f"no proposed depositor key change 0x{digest.hex()}")
            change, key_id = self._change(session, row), row.id
        signer = eip712.recover(change.typed_data(), signature)
        member = self.endorser(signer)
        try:
            with transaction(self.factory) as session:
                current = session.scalar(
                    select(DepositorKey.change_digest).where(DepositorKey.id == key_id)
                )
                if current != digest:
                    raise ConflictError(f"change 0x{digest.hex()} was proposed again meanwhile")
                existing = session.scalar(
                    select(KeyApproval).where(
                        KeyApproval.digest == digest, KeyApproval.signer == signer
                    )
                )
                if existing is None:
                    session.add(
                        KeyApproval(
                            key_id=key_id,
                            digest=digest,
                            signer=signer,
                            signature=signature,
                            received_at=_now(),
                        )
                    )
                else:  # posted again (a retry): the newest signature counts
                    existing.signature, existing.received_at = signature, _now()
        except IntegrityError:
            pass  # the same endorser's concurrent post was stored first
        log.info(
            "%s (%s) approved the change of depositor key %s (config nonce %s)",
            member.name,
            signer,
            change.account,
            change.nonce,
        )
        return signer

    def refused(self, session: Session, digest: bytes, word: str) -> bool:
        """Record an endorser's signed refusal of the change proposed with `digest` on its
        key (shown by GET /v1/depositor-keys); False when no change has that digest."""
        row = session.scalar(select(DepositorKey).where(DepositorKey.change_digest == digest))
        if row is None:
            return False
        row.last_refusal = word[:512]
        log.warning("depositor key %s: %s", row.address, word)
        return True

    # -- for the anchoring process -----------------------------------------------------

    def cycle(self, writer: ConsortiumWriter) -> int:
        """Settle changes found on chain, propose stale ones again, relay one change that
        has k approvals; how many were relayed (0 or 1). No chain call when none is open."""
        with transaction(self.factory) as session:
            ids = list(
                session.scalars(select(DepositorKey.id).where(_open()).order_by(DepositorKey.id))
            )
        if not ids:
            return 0
        nonce, k = self.reader.config_nonce(), self.reader.threshold()
        _, block_time = self.reader.block(self.reader.latest_block_number())
        endorsers = {m.account for m in self.reader.members() if m.role is Role.ENDORSER}
        relayed = 0
        for key_id in ids:
            with transaction(self.factory) as session:
                row = session.get(DepositorKey, key_id)
                assert row is not None
                address, state = row.address, row.state
                proposed = (row.change_nonce, row.change_threshold)
                deadline = row.change_deadline
            if self._settled_on_chain(address, state):
                continue
            if proposed != (nonce, k) or deadline is None or block_time > deadline - RENEW_BEFORE:
                self._propose(key_id, nonce, k, block_time + self.lifetime)
                continue
            if relayed:
                continue  # the nonce moved on: proposed again next cycle
            relayed += self._relay(writer, key_id, endorsers, k)
        return relayed

    def _settled_on_chain(self, address: str, state: str) -> bool:
        """Settle the key when the chain already holds its change; True then."""
        member = self.reader.member(address)
        if state == DepositorKeyState.PENDING.value:
            with transaction(self.factory) as session:
                row = session.scalar(select(DepositorKey).where(DepositorKey.address == address))
                assert row is not None
                expected = organization_id(_depositor(session, row))
            done = member.role is Role.DEPOSITOR and member.organization == expected
        else:
            done = member.role is Role.NONE
        if not done:
            return False
        tx = self.reader.last_member_tx(address) or ""
        keys_store.settle(self.factory, address, tx)
        log.info("depositor key %s: change found on chain (%s), %s settled", address, tx, state)
        return True

    def _propose(self, key_id: int, nonce: int, k: int, deadline: int) -> None:
        with transaction(self.factory) as session:
            row = session.get(DepositorKey, key_id)
            assert row is not None
            row.change_nonce, row.change_threshold, row.change_deadline = nonce, k, deadline
            old = row.change_digest
            row.change_digest = self._change(session, row).digest()
            if old is not None:  # approvals of the old proposal can never be relayed
                session.execute(delete(KeyApproval).where(KeyApproval.digest == old))
        log.info(
            "depositor key change of %s proposed at config nonce %s, deadline %s",
            row.address,
            nonce,
            deadline,
        )

    def _relay(self, writer: ConsortiumWriter, key_id: int, endorsers: set[str], k: int) -> int:
        with transaction(self.factory) as session:
            row = session.get(DepositorKey, key_id)
            assert row is not None
            change = self._change(session, row)
            approvals = [
                (a.signer, a.signature)
                for a in session.scalars(
                    select(KeyApproval).where(KeyApproval.digest == row.change_digest)
                )
                if a.signer in endorsers
            ]
        if len(approvals) < k:
            return 0
        try:
            receipt = writer.change_config(
                [change.member_change()],
                change.threshold,
                change.nonce,
                change.deadline,
                eip712.sorted_signatures(approvals),
            )
        except ChainError as exc:  # outraced, expired: proposed again next cycle
            log.warning("depositor key change of %s not applied: %s", change.account, exc)
            return 0
        tx = "0x" + bytes(receipt["transactionHash"]).hex()
        keys_store.settle(self.factory, change.account, tx)
        log.info(
            "depositor key change of %s applied in %s with %s approvals",
            change.account,
            tx,
            len(approvals),
        )
        return 1
