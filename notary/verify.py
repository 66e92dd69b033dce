"""Verify a certificate with public data alone: the certificate, optionally the file, a node.

This module imports the format code (notary.core) and the chain client (notary.chain) and
nothing else of the notary: no database, no service, no operator state. A court runs it.

Outcomes: VALID (every check passed), INVALID (a check failed: the certificate, the file
or the chain contradict each other), UNDECIDED (this run could not check: the node is
unreachable, serves another chain, or the certificate is of a newer version).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import BinaryIO

from notary.chain.artifact import published_code_hashes
from notary.chain.registry import Registry, connect
from notary.core import certificate as cert_format
from notary.core.certificate import Certificate, sm3_leaf_value, utc_text
from notary.core.hashing import hash_stream
from notary.core.leaf import metadata_digest
from notary.core.merkle import process_proof
from notary.errors import (
    CertificateFormatError,
    ChainError,
    ChainUnavailableError,
    UnsupportedVersionError,
    ValidationError,
)


class Outcome(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class Check:
    """One step of the procedure and its result."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str
    checks: tuple[Check, ...] = ()
    proven: tuple[str, ...] = ()
    not_proven: tuple[str, ...] = ()
    facts: dict[str, object] = field(default_factory=dict)


class _Failed(Exception):
    def __init__(self, outcome: Outcome, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


class _Run:
    def __init__(self) -> None:
        self.checks: list[Check] = []

    def check(self, name: str, passed: bool, ok: str, failed: str) -> None:
        self.checks.append(Check(name, passed, ok if passed else failed))
        if not passed:
            raise _Failed(Outcome.INVALID, failed)


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def _offline(run: _Run, cert: Certificate, file: BinaryIO | None) -> None:
    ev, leaf = cert.evidence, cert.leaf
    if file is not None:
        digest = hash_stream(file)
        run.check(
            "file sha256",
            digest.sha256 == ev.sha256,
            f"SHA-256 of the file is {digest.sha256.hex()}",
            f"the file's SHA-256 {digest.sha256.hex()} differs from the certificate's "
            f"{ev.sha256.hex()}: this is not the deposited file, or it was changed",
        )
        if ev.sm3 is not None:
            run.check(
                "file sm3",
                digest.sm3 == ev.sm3,
                f"SM3 of the file is {digest.sm3.hex()}",
                "the file's SM3 differs from the certificate's",
            )
        declared = ev.metadata.get("size")
        if isinstance(declared, int):
            run.check(
                "file size",
                digest.size == declared,
                f"{digest.size} bytes",
                f"the file has {digest.size} bytes, the certificate says {declared}",
            )
    run.check(
        "leaf content",
        leaf.sha256 == ev.sha256 and leaf.sm3 == sm3_leaf_value(ev.sm3),
        "the leaf commits to the evidence hashes",
        "the leaf values do not carry the evidence hashes",
    )
    run.check(
        "leaf metadata",
        leaf.metadata_digest == metadata_digest(ev.metadata),
        "the leaf commits to the evidence metadata",
        "the metadata does not match its digest in the leaf (metadata was altered)",
    )
    computed = leaf.hash()
    run.check(
        "leaf hash",
        computed == cert.leaf_hash,
        f"leaf hash {_hex(computed)}",
        f"the leaf values hash to {_hex(computed)}, not to the stated leaf hash",
    )
    root = process_proof(computed, cert.proof)
    run.check(
        "merkle proof",
        root == cert.anchor.root,
        f"the proof leads to root {_hex(root)}",
        f"the proof leads to {_hex(root)}, not to the anchored root {_hex(cert.anchor.root)}",
    )


def _online(run: _Run, cert: Certificate, rpc_url: str) -> dict[str, object]:
    a = cert.anchor
    registry = Registry(connect(rpc_url, retries=False), a.registry, rpc_url)
    chain_id = registry.chain_id()
    if chain_id != a.chain_id:
        raise _Failed(
            Outcome.UNDECIDED,
            f"the node at {rpc_url} serves chain {chain_id}; the "
            f"certificate is for chain {a.chain_id}: use a node of that chain",
        )
    run.checks.append(Check("chain id", True, f"node serves chain {chain_id}"))
    code_hash = registry.code_hash()
    run.check(
        "registry code",
        code_hash == a.registry_code_hash and code_hash in published_code_hashes(),
        f"the code at {a.registry} is the published EvidenceRegistry build",
        f"the code at {a.registry} (hash {_hex(code_hash)}) is not the published "
        "EvidenceRegistry build named in the certificate",
    )
    record = registry.anchor_of(a.root)
    run.check(
        "root anchored",
        record.sequence != 0,
        f"root is anchor #{record.sequence}",
        f"root {_hex(a.root)} was never anchored in this registry",
    )
    run.check(
        "anchor record",
        (record.sequence, record.block_number, record.timestamp, record.leaf_count)
        == (a.sequence, a.block_number, a.block_time, a.leaf_count),
        f"anchored in block {record.block_number} at {utc_text(record.timestamp)}",
        f"the registry says anchor #{record.sequence}, block {record.block_number}, time "
        f"{record.timestamp}; the certificate says #{a.sequence}, block {a.block_number}, "
        f"time {a.block_time}",
    )
    block_hash, block_time = registry.block(a.block_number)
    run.check(
        "block",
        block_hash == a.block_hash and block_time == a.block_time,
        f"block {a.block_number} has the stated hash and time",
        f"block {a.block_number} has hash {_hex(block_hash)} and time {block_time}, "
        "not those of the certificate",
    )
    on_chain = registry.verify(a.root, list(cert.proof), cert.leaf_hash)
    run.check(
        "contract verify",
        on_chain == a.block_time,
        "the registry contract accepts the proof",
        "the registry contract does not accept the leaf and proof",
    )
    receipt = registry.receipt(a.tx_hash)
    events = [e for e in registry.anchored_events(receipt) if e.root == a.root]
    run.check(
        "transaction",
        receipt["status"] == 1 and bytes(receipt["blockHash"]) == a.block_hash and len(events) == 1,
        f"transaction {_hex(a.tx_hash)} emitted the anchor",
        f"transaction {_hex(a.tx_hash)} is not the one that anchored this root",
    )
    latest = int(registry.w3.eth.block_number)
    return {"confirmations": latest - a.block_number, "notary": record.notary}


def offline_checks(cert: Certificate, file: BinaryIO | None = None) -> tuple[Check, ...]:
    """Steps 2 to 5 (file, leaf, proof) without a chain; stops at the first failure."""
    run = _Run()
    with contextlib.suppress(_Failed):
        _offline(run, cert, file)
    return tuple(run.checks)


def verify(certificate: bytes | str, rpc_url: str, file: BinaryIO | None = None) -> Verdict:
    """Run the whole procedure of docs/certificate.md and return the verdict."""
    try:
        cert = cert_format.loads(certificate)
    except UnsupportedVersionError as exc:
        return Verdict(Outcome.UNDECIDED, f"{exc}; use a newer verifier")
    except CertificateFormatError as exc:
        return Verdict(Outcome.INVALID, f"malformed certificate: {exc}")
    run = _Run()
    facts: dict[str, object] = {}
    try:
        _offline(run, cert, file)
        facts = _online(run, cert, rpc_url)
    except _Failed as failed:
        return Verdict(failed.outcome, failed.reason, tuple(run.checks))
    except ChainUnavailableError as exc:
        return Verdict(Outcome.UNDECIDED, f"cannot reach the chain: {exc}", tuple(run.checks))
    except (ChainError, ValidationError) as exc:
        return Verdict(
            Outcome.UNDECIDED, f"the chain could not be queried: {exc}", tuple(run.checks)
        )
    return _valid(cert, file is not None, tuple(run.checks), facts)


def _valid(
    cert: Certificate, with_file: bool, checks: tuple[Check, ...], facts: dict[str, object]
) -> Verdict:
    a, ev = cert.anchor, cert.evidence
    when = utc_text(a.block_time).replace("T", " ").replace("Z", " UTC")
    name = ev.metadata.get("name", "(no name)")
    subject = f"this file ({name})" if with_file else f"content with SHA-256 {ev.sha256.hex()}"
    proven = (
        f"{subject} existed, unchanged, no later than {when} "
        f"(block {a.block_number} of chain {a.chain_id}, registry {a.registry}).",
        f"It was anchored by notary account {a.notary} for depositor '{cert.leaf.depositor}', "
        "together with the metadata in the certificate.",
    )
    not_proven = (
        "When the content was created: it may be older than the anchor, never newer.",
        "Who authored it: the chain proves who deposited it through the notary, not authorship.",
        "That the metadata (name, media type, title) is true: only that it was declared then.",
    ) + (
        ()
        if with_file
        else ("That any particular file matches: no file was checked. Re-run with --file.",)
    )
    reason = f"{subject} existed, unchanged, no later than {when}"
    facts = {
        **facts,
        "block_time_utc": utc_text(a.block_time),
        "chain_id": a.chain_id,
        "registry": a.registry,
        "block_number": a.block_number,
        "root": _hex(a.root),
        "sha256": ev.sha256.hex(),
        "name": name,
        "depositor": cert.leaf.depositor,
        "file_checked": with_file,
    }
    return Verdict(Outcome.VALID, reason, checks, proven, not_proven, facts)
