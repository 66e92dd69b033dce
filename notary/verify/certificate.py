"""Verify a certificate with public data alone: the certificate, optionally the file, a node.

This module imports the format code (notary.core) and the chain client (notary.chain) and
nothing else of the notary: no database, no service, no operator state. A court runs it.

It performs the steps of docs/certificate.md section 6, in that order; the first failure
decides. Outcomes: VALID (every step passed), INVALID (a step failed: the certificate, the
file or the chain contradict each other), CANNOT_DECIDE (this run could not check: the node
is unreachable or failed to answer, serves another chain, has not reached the anchor's block
yet, or the certificate is of a newer version). A certificate too large or too deeply
nested is not read at all: `verify` raises JsonInputError (code "too_large" or
"too_deep"), which the CLI and the API report.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import BinaryIO

from eth_utils.address import to_checksum_address

from notary.chain.artifact import published_code_hashes
from notary.chain.consortium import ConsortiumReader, connect_consortium_reader
from notary.chain.registry import OnChainAnchor, RegistryReader, connect_reader
from notary.core import certificate_v2
from notary.core.certificate import AnchorRecord, Certificate, utc_text
from notary.core.certificate_v2 import CertificateV2
from notary.core.hashing import hash_stream
from notary.core.leaf import metadata_digest, sm3_leaf_value
from notary.core.merkle import process_proof
from notary.errors import (
    CertificateFormatError,
    ChainError,
    ChainUnavailableError,
    UnsupportedVersionError,
)
from notary.verify import depositor, endorsement, wording
from notary.verify.steps import Check as Check
from notary.verify.steps import Failed as _Failed
from notary.verify.steps import Outcome as Outcome
from notary.verify.steps import Run as _Run
from notary.verify.wording import claims

LABELS = {outcome: wording.LABELS["en"][outcome.value] for outcome in Outcome}
"""What a clerk reads for each outcome (notary.verify.wording has them in Chinese too)."""


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str
    checks: tuple[Check, ...] = ()
    proven: tuple[str, ...] = ()
    not_proven: tuple[str, ...] = ()
    facts: dict[str, object] = field(default_factory=dict)


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def _address(text: str) -> str:
    """Addresses compare without regard to case (EIP-55 was checked when parsing)."""
    try:
        return str(to_checksum_address(text))
    except ValueError:
        return text


def _offline(run: _Run, cert: Certificate, file: BinaryIO | None) -> None:
    ev, leaf = cert.evidence, cert.leaf
    if file is not None:
        digest = hash_stream(file)
        run.check(
            "file sha256",
            digest.sha256 == ev.sha256,
            f"SHA-256 of the file is {digest.sha256.hex()}",
            f"the file's SHA-256 {digest.sha256.hex()} differs from evidence.sha256 "
            f"{ev.sha256.hex()}: this is not the deposited file, or it was changed",
        )
        if ev.sm3 is not None:
            run.check(
                "file sm3",
                digest.sm3 == ev.sm3,
                f"SM3 of the file is {digest.sm3.hex()}",
                f"the file's SM3 {digest.sm3.hex()} differs from evidence.sm3 {ev.sm3.hex()}",
            )
        declared = ev.metadata.get("size")
        if isinstance(declared, int):
            run.check(
                "file size",
                digest.size == declared,
                f"{digest.size} bytes",
                f"the file has {digest.size} bytes, evidence.metadata.size says {declared}",
            )
    run.check(
        "leaf content",
        leaf.sha256 == ev.sha256 and leaf.sm3 == sm3_leaf_value(ev.sm3),
        "the leaf commits to the evidence hashes",
        "leaf values 2 and 3 are not evidence.sha256 and evidence.sm3: the leaf does not "
        "commit to these hashes",
    )
    run.check(
        "leaf metadata",
        leaf.metadata_digest == metadata_digest(ev.metadata),
        "the leaf commits to the evidence metadata",
        "leaf value 4 is not the digest of evidence.metadata (the metadata was altered)",
    )
    computed = leaf.hash()
    run.check(
        "leaf hash",
        computed == cert.leaf_hash,
        f"leaf hash {_hex(computed)}",
        f"the leaf values hash to {_hex(computed)}, not to leaf.hash {_hex(cert.leaf_hash)}",
    )
    root = process_proof(computed, cert.proof)
    run.check(
        "merkle proof",
        root == cert.anchor.root,
        f"the proof leads to root {_hex(root)}",
        f"the proof leads to {_hex(root)}, not to anchor.root {_hex(cert.anchor.root)}",
    )


def _synced(run: _Run, registry: RegistryReader, a: AnchorRecord, rpc_url: str) -> None:
    """Step 6, second half: the node has reached the anchor's block.

    A node behind it answers about an older chain: its registry does not hold the root yet
    and it has no such block, which says nothing against the certificate.
    """
    head = registry.latest_block_number()
    if head < a.block_number:
        run.cannot_decide(
            "node synced",
            f"the node at {rpc_url} is at block {head}, behind the anchor's block "
            f"{a.block_number}: wait until it has synced, or ask another node",
        )
    run.checks.append(
        Check("node synced", True, f"the node is at block {head}, the anchor in {a.block_number}")
    )


def _registry_code(run: _Run, registry: RegistryReader, a: AnchorRecord, version: int) -> None:
    """Step 7: the code at the address is a published build, and the certificate says so.
    Version 1 names EvidenceRegistry, version 2 ConsortiumRegistry (its own published hash)."""
    code_hash = registry.code_hash()
    accepted = published_code_hashes(version)
    build = "ConsortiumRegistry" if version == 2 else "EvidenceRegistry"
    published = ", ".join(_hex(h) for h in sorted(accepted))
    run.check(
        "registry code",
        code_hash in accepted,
        f"the code at {a.registry} is the published {build} build ({_hex(code_hash)})",
        f"the code at {a.registry} (hash {_hex(code_hash)}) is not the published "
        f"{build} build (published: {published})",
    )
    run.check(
        "registry code hash field",
        a.registry_code_hash == code_hash,
        "anchor.registry_code_hash names that build",
        f"anchor.registry_code_hash is {_hex(a.registry_code_hash)}, but the registry's code "
        f"hash is {_hex(code_hash)} (the published build)",
    )


def _anchor_fields(record: OnChainAnchor, a: AnchorRecord) -> list[tuple[str, object, object]]:
    """(certificate field, chain value, certificate value) for what the chain also holds."""
    return [
        ("anchor.sequence", record.sequence, a.sequence),
        ("anchor.block_number", record.block_number, a.block_number),
        ("anchor.block_time", record.timestamp, a.block_time),
        ("anchor.leaf_count", record.leaf_count, a.leaf_count),
        ("anchor.notary", _address(record.notary), _address(a.notary)),
        ("anchor.manifest", record.manifest, a.manifest),
    ]


def _online(run: _Run, cert: Certificate, rpc_url: str) -> dict[str, object]:
    a = cert.anchor
    registry = (
        connect_consortium_reader(rpc_url, a.registry, retries=False)
        if isinstance(cert, CertificateV2)
        else connect_reader(rpc_url, a.registry, retries=False)
    )
    chain_id = registry.chain_id()
    if chain_id != a.chain_id:
        run.cannot_decide(
            "chain id",
            f"the node at {rpc_url} serves chain {chain_id}; the certificate is for chain "
            f"{a.chain_id}: use a node of that chain",
        )
    run.checks.append(Check("chain id", True, f"node serves chain {chain_id}"))
    _synced(run, registry, a, rpc_url)
    _registry_code(run, registry, a, 2 if isinstance(cert, CertificateV2) else 1)
    record = registry.anchor_of(a.root)
    run.check(
        "root anchored",
        record.sequence != 0,
        f"root is anchor #{record.sequence}",
        f"root {_hex(a.root)} was never anchored in the registry {a.registry}",
    )
    run.compare(
        "anchor record",
        f"anchored in block {record.block_number} at {utc_text(record.timestamp)}",
        "in the registry (anchorOf)",
        _anchor_fields(record, a),
    )
    block = registry.block_info(a.block_number)
    if block is None:
        run.cannot_decide(
            "block",
            f"the node has no block {a.block_number}, although its registry says the root "
            "was anchored in it: the node answers inconsistently, ask another node",
        )
    assert block is not None
    run.compare(
        "block",
        f"block {a.block_number} has the stated hash and time",
        f"for block {a.block_number} on the chain",
        [
            ("anchor.block_hash", block.hash, a.block_hash),
            ("anchor.block_time", block.timestamp, a.block_time),
        ],
    )
    on_chain = registry.verify(a.root, list(cert.proof), cert.leaf_hash)
    run.check(
        "contract verify",
        on_chain == a.block_time,
        "the registry contract accepts the proof",
        "the registry contract's verify(root, proof, leaf) does not accept the leaf and proof",
    )
    _transaction(run, registry, a, block.transactions)
    facts: dict[str, object] = {}
    if isinstance(cert, CertificateV2):
        assert isinstance(registry, ConsortiumReader)
        facts["endorsement"] = endorsement.online(run, cert, registry).as_facts()
        facts["depositor_signature"] = (
            None
            if cert.depositor_signature is None
            else depositor.online(run, cert, registry).as_facts()
        )
    return {
        "confirmations": registry.latest_block_number() - a.block_number,
        "notary": record.notary,
        **facts,
    }


def _transaction(
    run: _Run, registry: RegistryReader, a: AnchorRecord, in_block: tuple[bytes, ...]
) -> None:
    """Step 11: the named transaction is in the block and emitted this anchor."""
    run.check(
        "transaction in block",
        a.tx_hash in in_block,
        f"transaction {_hex(a.tx_hash)} is in block {a.block_number}",
        f"anchor.tx_hash {_hex(a.tx_hash)} is not a transaction of block {a.block_number}, "
        "where the registry says this root was anchored: the certificate names a "
        "transaction that did not anchor it",
    )
    receipt = registry.receipt_or_none(a.tx_hash)
    if receipt is None:
        run.cannot_decide(
            "transaction receipt",
            f"the node lists transaction {_hex(a.tx_hash)} in block {a.block_number} but "
            "serves no receipt for it (pruned transaction index?): ask another node",
        )
    assert receipt is not None
    run.check(
        "transaction status",
        int(receipt["status"]) == 1,
        "the transaction succeeded",
        f"transaction {_hex(a.tx_hash)} reverted (receipt status {int(receipt['status'])})",
    )
    to = receipt.get("to")
    run.compare(
        "transaction receipt",
        "the transaction is in the stated block and was sent to the registry",
        "in the receipt",
        [
            ("anchor.block_hash", bytes(receipt["blockHash"]), a.block_hash),
            ("anchor.block_number", int(receipt["blockNumber"]), a.block_number),
            ("anchor.registry (to)", _address(str(to)), _address(a.registry)),
        ],
    )
    events = [e for e in registry.anchored_events(receipt) if e.root == a.root]
    run.check(
        "anchored event",
        len(events) == 1,
        "the transaction emitted the registry's Anchored event for this root",
        f"transaction {_hex(a.tx_hash)} emitted no Anchored event of the registry for root "
        f"{_hex(a.root)}",
    )
    event = events[0]
    run.compare(
        "event fields",
        "the Anchored event carries the certificate's anchor",
        "in the Anchored event",
        [
            ("anchor.sequence", event.sequence, a.sequence),
            ("anchor.leaf_count", event.leaf_count, a.leaf_count),
            ("anchor.block_time", event.timestamp, a.block_time),
            ("anchor.notary", _address(event.notary), _address(a.notary)),
            ("anchor.manifest", event.manifest, a.manifest),
        ],
    )


def offline_checks(cert: Certificate, file: BinaryIO | None = None) -> tuple[Check, ...]:
    """Steps 2 to 5 (file, leaf, proof) without a chain; stops at the first failure."""
    run = _Run()
    with contextlib.suppress(_Failed):
        _offline(run, cert, file)
    return tuple(run.checks)


def verify(certificate: bytes | str, rpc_url: str, file: BinaryIO | None = None) -> Verdict:
    """Run the whole procedure of docs/certificate.md and return the verdict.

    Raises JsonInputError ("too_large", "too_deep") when the certificate is refused unread.
    """
    try:
        cert = certificate_v2.loads(certificate)
    except UnsupportedVersionError as exc:
        return Verdict(Outcome.CANNOT_DECIDE, f"{exc}; use a newer verifier")
    except CertificateFormatError as exc:
        return Verdict(Outcome.INVALID, f"malformed certificate: {exc}")
    run = _Run()
    facts: dict[str, object] = {}
    try:
        _offline(run, cert, file)
        if isinstance(cert, CertificateV2):
            endorsement.offline(run, cert)
            depositor.offline(run, cert)
        facts = _online(run, cert, rpc_url)
    except _Failed as failed:
        return Verdict(failed.outcome, failed.reason, tuple(run.checks))
    except ChainUnavailableError as exc:
        return Verdict(Outcome.CANNOT_DECIDE, f"cannot reach the chain: {exc}", tuple(run.checks))
    except ChainError as exc:
        return Verdict(
            Outcome.CANNOT_DECIDE,
            f"the node at {rpc_url} failed to answer ({exc}); ask another node of chain "
            f"{cert.anchor.chain_id}",
            tuple(run.checks),
        )
    return _valid(cert, file is not None, tuple(run.checks), facts)


def _valid(
    cert: Certificate, with_file: bool, checks: tuple[Check, ...], facts: dict[str, object]
) -> Verdict:
    a, ev = cert.anchor, cert.evidence
    said = claims(cert, with_file)
    name = ev.metadata.get("name", "(no name)")
    facts = {
        **facts,
        "block_time_utc": utc_text(a.block_time),
        "chain_id": a.chain_id,
        "registry": a.registry,
        "registry_code_hash": _hex(a.registry_code_hash),
        "block_number": a.block_number,
        "root": _hex(a.root),
        "sha256": ev.sha256.hex(),
        "name": name,
        "depositor": cert.leaf.depositor,
        "file_checked": with_file,
    }
    proven = said.proven
    endorsed = facts.get("endorsement")
    not_proven = said.not_proven
    if isinstance(endorsed, dict):
        proven = (*proven, wording.endorsed_words(endorsed))
        signed = facts.get("depositor_signature")
        if isinstance(signed, dict):
            proven = (*proven, wording.depositor_words(signed))
        else:
            not_proven = (*not_proven, wording.unsigned_words(cert.leaf.depositor))
    return Verdict(Outcome.VALID, said.reason, checks, proven, not_proven, facts)
