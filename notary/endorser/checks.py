"""What an endorser checks before it signs a batch or approves a depositor key change
(docs/consortium.md; README, "Consortium: endorsers and the pipeline"). Pure functions:
the node fetches, these decide.

A proposal is refused, with the reason, when:
- it names another chain or registry than the one this endorser serves;
- the batch time is ahead of this endorser's clock by more than `future_seconds`, or older
  than `max_age_seconds` (the registry's own window is 3600 s at the anchoring block);
- the leaf count is 0 or beyond 2^32 - 1, or the manifest reference is empty or longer than
  the registry's 256 bytes;
- the manifest fetched from IPFS is larger than its leaf count allows, does not hash to the
  CID the proposal names, is not a version 1 batch manifest, does not have leaf_count
  leaves, or its leaves do not rebuild the proposed root (the root is recomputed here from
  the leaf hashes: nothing the notary says about the tree is trusted).

A depositor key change is refused (check_key_change) unless it names this chain and
registry, keeps the registry's threshold, carries the registry's configNonce, has a
deadline ahead of this endorser's clock by at most MAX_CHANGE_LIFETIME, and is exactly
- "add DEPOSITOR": the organization id is keccak256 of the depositor identity, the name is
  1 to 128 bytes, the account holds no role in the registry, and the key's consent
  (EIP-712 DepositorKey(account, depositor) under this registry's domain) recovers to the
  account; or
- "remove": zero organization and empty name, of an account that is a DEPOSITOR of that
  identity's organization.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from notary.chain import eip712
from notary.chain.consortium import Member
from notary.chain.eip712 import MemberChange, Role
from notary.core import manifest
from notary.core.depositor import organization_id
from notary.core.merkle import build_tree
from notary.errors import ValidationError

MAX_MANIFEST_REFERENCE: Final = 256
BYTES_PER_LEAF: Final = 69
"""A manifest spends 69 bytes a leaf ("0x" + 64 hex digits, quotes, comma)."""
MANIFEST_OVERHEAD: Final = 4096
MAX_NAME_BYTES: Final = 128
"""The registry's longest member name."""


@dataclass(frozen=True)
class Proposal:
    """A batch as GET /v1/consortium/proposals lists it."""

    root: bytes
    leaf_count: int
    manifest: str
    batch_time: int
    chain_id: int
    registry: str


@dataclass(frozen=True)
class Tolerance:
    """How far a batch time may be from this endorser's clock."""

    future_seconds: int = 30
    """Clock skew allowed ahead (the registry refuses any batch time after the block's)."""
    max_age_seconds: int = 3300
    """Oldest batch time signed: under the registry's 3600 s, leaving time to anchor."""


def check_header(
    p: Proposal, now: int, tolerance: Tolerance, chain_id: int | None, registry: str | None
) -> str | None:
    """The refusal reason from the proposal alone (no manifest yet), or None."""
    if chain_id is not None and p.chain_id != chain_id:
        return f"proposal for chain {p.chain_id}; this endorser serves chain {chain_id}"
    if registry is not None and p.registry.lower() != registry.lower():
        return f"proposal for registry {p.registry}; this endorser serves {registry}"
    if p.batch_time > now + tolerance.future_seconds:
        return (
            f"batch time {p.batch_time} is {p.batch_time - now} s ahead of this endorser's "
            f"clock ({now}); at most {tolerance.future_seconds} s allowed"
        )
    if now - p.batch_time > tolerance.max_age_seconds:
        return (
            f"batch time {p.batch_time} is {now - p.batch_time} s behind this endorser's "
            f"clock ({now}); at most {tolerance.max_age_seconds} s allowed"
        )
    if not 0 < p.leaf_count < 2**32:
        return f"leaf count {p.leaf_count} is not between 1 and 2^32 - 1"
    if not p.manifest or len(p.manifest.encode()) > MAX_MANIFEST_REFERENCE:
        return "the manifest reference is empty or longer than 256 bytes"
    return None


def manifest_limit(leaf_count: int) -> int:
    """The most bytes a manifest of `leaf_count` leaves can have."""
    return leaf_count * BYTES_PER_LEAF + MANIFEST_OVERHEAD


def check_manifest(p: Proposal, data: bytes) -> str | None:
    """The refusal reason from the fetched manifest bytes, or None when they rebuild the
    proposed root with the proposed leaf count."""
    if len(data) > manifest_limit(p.leaf_count):
        return f"the manifest has {len(data)} bytes: too many for {p.leaf_count} leaves"
    cid = manifest.cid_of(data)
    if cid != p.manifest:
        return f"the bytes IPFS returned hash to {cid}, not to the proposed {p.manifest}"
    try:
        parsed = manifest.decode(data)
    except ValidationError as exc:
        return f"not a valid batch manifest: {exc}"
    if len(parsed.leaves) != p.leaf_count:
        return f"the manifest has {len(parsed.leaves)} leaves, the proposal says {p.leaf_count}"
    rebuilt = build_tree(list(parsed.leaves)).root
    if rebuilt != p.root:
        return (
            f"the manifest's leaves rebuild root 0x{rebuilt.hex()}, not the proposed "
            f"0x{p.root.hex()}"
        )
    return None


MAX_CHANGE_LIFETIME: Final = 3600
"""Latest deadline approved, in seconds after this endorser's clock: an approval is a
signed authorization anyone may relay until its deadline, so it must not live long."""


@dataclass(frozen=True)
class KeyChange:
    """A depositor key change as GET /v1/consortium/key-changes lists it."""

    digest: bytes
    """As the notary listed it; the endorser signs the digest it computes itself."""
    account: str
    role: Role
    organization: bytes
    name: str
    depositor: str
    consent: bytes | None
    threshold: int
    nonce: int
    deadline: int
    chain_id: int
    registry: str

    def typed_data(self) -> dict[str, Any]:
        """The EIP-712 ConfigChange this change is (what an approval signs)."""
        entry = MemberChange(self.account, self.role, self.organization, self.name)
        return eip712.config_change_typed_data(
            self.chain_id, self.registry, [entry], self.threshold, self.nonce, self.deadline
        )


@dataclass(frozen=True)
class RegistryState:
    """What the endorser read from its own chain node about the change."""

    chain_id: int
    registry: str
    config_nonce: int
    threshold: int
    member: Member
    """The account's member record now (role NONE when it is no member)."""


def check_key_change(
    c: KeyChange, chain: RegistryState, now: int, max_lifetime: int = MAX_CHANGE_LIFETIME
) -> str | None:
    """The refusal reason of a depositor key change, or None when it is exactly what it
    claims: add a DEPOSITOR key that consented to sign for that depositor identity, under
    that identity's organization id, for an account that holds no role; or remove a
    DEPOSITOR of that organization; at the registry's config nonce and threshold, with a
    deadline ahead but at most `max_lifetime` away. What it does NOT establish is who the
    organization behind the identity is: that is the operator's call (manual mode)."""
    if c.chain_id != chain.chain_id or c.registry.lower() != chain.registry.lower():
        return (
            f"change for registry {c.registry} on chain {c.chain_id}; this endorser serves "
            f"{chain.registry} on chain {chain.chain_id}"
        )
    if c.threshold != chain.threshold:
        return f"the change sets k to {c.threshold}; the registry's k is {chain.threshold}"
    if c.nonce != chain.config_nonce:
        return f"config nonce {c.nonce}; the registry expects {chain.config_nonce}"
    if c.deadline <= now:
        return f"deadline {c.deadline} has passed (this endorser's clock: {now})"
    if c.deadline - now > max_lifetime:
        return f"deadline {c.deadline} is {c.deadline - now} s ahead; at most {max_lifetime} s"
    if c.role is Role.DEPOSITOR:
        return _check_add(c, chain)
    if c.role is Role.NONE:
        return _check_remove(c, chain)
    return f"role {c.role.name}: only adding or removing a DEPOSITOR key is approved here"


def _check_add(c: KeyChange, chain: RegistryState) -> str | None:
    if c.organization != organization_id(c.depositor):
        return (
            f"organization 0x{c.organization.hex()} is not keccak256 of the depositor "
            f"identity {c.depositor!r}"
        )
    if not c.name or len(c.name.encode("utf-8")) > MAX_NAME_BYTES:
        return "the member name is empty or longer than 128 bytes"
    if chain.member.role is not Role.NONE:
        return f"{c.account} already holds the role {chain.member.role.name} in the registry"
    if c.consent is None:
        return "the change carries no consent of the key"
    typed = eip712.depositor_key_typed_data(c.chain_id, c.registry, c.account, c.depositor)
    try:
        signer = eip712.recover(typed, c.consent)
    except ValidationError as exc:
        return f"the key's consent is not a valid signature: {exc}"
    if signer.lower() != c.account.lower():
        return f"the key's consent for {c.depositor!r} recovers to {signer}, not to {c.account}"
    return None


def _check_remove(c: KeyChange, chain: RegistryState) -> str | None:
    if c.organization != bytes(32) or c.name:
        return "a removal carries a zero organization and an empty name"
    member = chain.member
    if member.role is not Role.DEPOSITOR:
        return f"{c.account} is not a DEPOSITOR of the registry (role {member.role.name})"
    if member.organization != organization_id(c.depositor):
        return (
            f"{c.account} is a DEPOSITOR of organization 0x{member.organization.hex()}, not of "
            f"{c.depositor!r}"
        )
    return None
