"""The endorsement steps of certificate version 2 (docs/certificate-v2.md, section 4).

Offline (step E1, E2): the endorsements name distinct members in ascending order, and each
EIP-712 signature, under the domain of the certificate's chain id and registry, recovers to
its member over (root, leaf count, manifest, batch time). Online (E3 to E5): the members and
policy in force for the anchor, replayed from the registry's MemberSet / MemberRemoved /
PolicySet events up to the anchor's own Anchored log (eth_getLogs: any full node serves
logs; reading state at an old block would need an archive node), make each endorser an
ENDORSER of that organization and name, with at least k of them and the document's
threshold that k; and endorsementOf(root) records the same batch time, k and endorsers.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from notary.chain.consortium import ConsortiumReader, Member
from notary.chain.eip712 import Batch, recover_endorser
from notary.chain.registry import ANCHORED_TOPIC, RegistryReader
from notary.core.certificate_v2 import CertificateV2, MemberEndorsement
from notary.errors import ValidationError
from notary.verify.steps import Check, Run

_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
"""secp256k1's n / 2: a larger s is the malleable twin of a signature (EIP-2)."""


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


@dataclass(frozen=True)
class Endorser:
    """One endorser as a verdict reports it."""

    member: str
    organization: str
    organization_id: str


@dataclass(frozen=True)
class EndorsementSummary:
    """Who endorsed, out of how many endorsing members, under which k (at the anchor)."""

    endorsers: tuple[Endorser, ...]
    endorsing_members: int
    threshold: int
    block: int

    def as_facts(self) -> dict[str, object]:
        return {
            "endorsed_by": [
                {
                    "member": e.member,
                    "organization": e.organization,
                    "organization_id": e.organization_id,
                }
                for e in self.endorsers
            ],
            "endorsers": len(self.endorsers),
            "endorsing_members": self.endorsing_members,
            "threshold": self.threshold,
            "block": self.block,
        }


def _batch(cert: CertificateV2) -> Batch:
    a = cert.anchor
    return Batch(a.root, a.leaf_count, a.manifest, cert.batch_time)


def offline(run: Run, cert: CertificateV2) -> None:
    """E1 and E2: distinct members, ascending; every signature recovers to its member."""
    entries = cert.endorsement.endorsements
    problem = ""
    previous = -1
    for i, e in enumerate(entries):
        number = int(e.member, 16)
        if number == previous or any(int(o.member, 16) == number for o in entries[:i]):
            problem = (
                f"member {to_checksum_address(e.member)} endorses twice "
                f"(anchor.endorsement.endorsements[{i}]): each member counts once"
            )
            break
        if number < previous:
            problem = (
                "anchor.endorsement.endorsements are not in ascending order of member "
                "address, as the registry records them"
            )
            break
        previous = number
    run.check(
        "endorsers distinct", not problem, f"{len(entries)} distinct endorsing members", problem
    )
    a = cert.anchor
    for i, e in enumerate(entries):
        _recovers(run, i, e, a.chain_id, a.registry, _batch(cert))
    run.checks.append(
        Check(
            "endorsement signatures",
            True,
            f"each of the {len(entries)} signatures is its member's, over this batch on chain "
            f"{a.chain_id}, registry {a.registry}",
        )
    )


def _recovers(
    run: Run, i: int, e: MemberEndorsement, chain_id: int, registry: str, batch: Batch
) -> None:
    member = to_checksum_address(e.member)
    raw = e.signature_bytes
    if int.from_bytes(raw[32:64], "big") > _HALF_N or raw[64] not in (27, 28):
        run.check(
            "endorsement signatures",
            False,
            "",
            f"the signature of {member} is not in the form the registry accepts (low s, v 27 "
            "or 28: OpenZeppelin ECDSA)",
        )
    try:
        signer = recover_endorser(e.signature_bytes, chain_id, registry, batch)
    except ValidationError as exc:
        run.check(
            "endorsement signatures", False, "", f"the signature of {member} is not valid: {exc}"
        )
        return
    if signer != member:
        run.check(
            "endorsement signatures",
            False,
            "",
            f"the signature given for {member} ({e.organization}) recovers to {signer}: it is "
            "not that member's endorsement of this batch (root, leaf count, manifest, batch "
            f"time) on chain {chain_id}, registry {registry}",
        )


def online(run: Run, cert: CertificateV2, reader: ConsortiumReader) -> EndorsementSummary:
    """E3 to E5 against the node (the v1 steps have passed: the anchor is on this chain)."""
    a = cert.anchor
    log_index = _anchored_log_index(reader, cert)
    try:
        config, left = reader.configuration_before(a.block_number, log_index)
    except ValidationError:
        # The published code emits PolicySet in its constructor: no such event means the
        # node's logs are incomplete (pruned, not indexed), not that the certificate lies.
        run.cannot_decide(
            "endorsers were members",
            f"the node at {reader.rpc_url} returns no configuration events of {a.registry} up "
            f"to block {a.block_number}, although the published ConsortiumRegistry emits them "
            "when deployed: its logs are incomplete, ask another node",
        )
        raise
    endorsers = {m.account: m for m in config.endorsers}
    reported = []
    for e in cert.endorsement.endorsements:
        member = to_checksum_address(e.member)
        problem = _membership_problem(member, e, endorsers.get(member), left, a.block_number)
        if problem:
            run.check("endorsers were members", False, "", problem)
        reported.append(Endorser(member, e.organization, e.organization_id))
    run.checks.append(
        Check(
            "endorsers were members",
            True,
            f"{len(reported)} ENDORSER members at block {a.block_number} "
            f"({len(endorsers)} endorsing members then, configuration {config.config_nonce})",
        )
    )
    run.check(
        "endorsement policy",
        cert.endorsement.threshold == config.threshold,
        f"the policy at block {a.block_number} required {config.threshold}",
        f"anchor.endorsement.threshold is {cert.endorsement.threshold}, but the policy in force "
        f"at block {a.block_number} required {config.threshold} endorsements",
    )
    run.check(
        "endorsement quorum",
        len(reported) >= config.threshold,
        f"{len(reported)} distinct endorsers >= {config.threshold}",
        f"only {len(reported)} distinct endorsers, the policy at block {a.block_number} "
        f"required {config.threshold}",
    )
    _recorded(run, cert, reader)
    return EndorsementSummary(tuple(reported), len(endorsers), config.threshold, a.block_number)


def _membership_problem(
    member: str, e: MemberEndorsement, held: Member | None, left: dict[str, int], block: int
) -> str:
    """Why `member` could not endorse at `block` as the certificate says, or ""."""
    if held is None:
        since = left.get(member)
        why = (
            f"it stopped being one in block {since}"
            if since is not None
            else "it was never one before the anchor"
        )
        return (
            f"{member} ({e.organization}) was not an ENDORSER member of the registry when the "
            f"batch was anchored in block {block}: {why}"
        )
    wrong = []
    if _hex(held.organization) != e.organization_id:
        wrong.append(f"organization id {_hex(held.organization)}, not {e.organization_id}")
    if held.name != e.organization:
        wrong.append(f"organization name {held.name!r}, not {e.organization!r}")
    if wrong:
        return f"on chain, member {member} has " + " and ".join(wrong)
    return ""


def _anchored_log_index(registry: RegistryReader, cert: CertificateV2) -> int:
    """Index (in its block) of the Anchored log of this root; step 11 found exactly one."""
    a = cert.anchor
    receipt = registry.receipt(a.tx_hash)
    for log in receipt["logs"]:
        topics = log["topics"]
        if (
            log["address"] == registry.address
            and len(topics) > 1
            and bytes(topics[0]) == ANCHORED_TOPIC
            and bytes(topics[1]) == a.root
        ):
            return int(log["logIndex"])
    raise AssertionError("step 11 passed, so the receipt has the Anchored log")


def _recorded(run: Run, cert: CertificateV2, reader: ConsortiumReader) -> None:
    """E5: endorsementOf(root) is the document's batch time, k and endorsers."""
    a = cert.anchor
    recorded = reader.endorsement_of(a.root)
    stated = tuple(to_checksum_address(e.member) for e in cert.endorsement.endorsements)
    chain = tuple(to_checksum_address(e) for e in recorded.endorsers)
    run.compare(
        "recorded endorsement",
        f"the registry recorded these {len(chain)} endorsers, k = {recorded.threshold} and "
        f"batch time {recorded.batch_time}",
        "in the registry (endorsementOf)",
        [
            ("anchor.batch_time", recorded.batch_time, cert.batch_time),
            ("anchor.endorsement.threshold", recorded.threshold, cert.endorsement.threshold),
            ("the endorsers", ", ".join(chain), ", ".join(stated)),
        ],
    )
