"""`notary stamp FILE...`: hash files, anchor them as one batch, write one certificate each.

Before the anchor transaction is sent, the batch (every leaf with its salt and metadata)
is journaled to <data>/batches/<root>.json, so a crash after anchoring never leaves an
anchor whose certificates cannot be rebuilt. Durable queuing of deposits is the service's
job; this command anchors what it is given, at once.
"""

from __future__ import annotations

import mimetypes
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from eth_account.signers.local import LocalAccount

from notary.chain.finality import Finality, wait_final
from notary.chain.registry import AnchorReceipt, RegistryWriter, connect
from notary.config import Settings
from notary.core import certificate as cert_format
from notary.core.certificate import AnchorRecord, Certificate, Evidence
from notary.core.cid import PROFILE
from notary.core.hashing import CHUNK_SIZE, ContentDigest, StreamHasher
from notary.core.leaf import Leaf, Metadata, metadata_digest, validate_depositor, validate_metadata
from notary.core.merkle import build_tree
from notary.core.unixfs import UnixfsHasher
from notary.errors import ValidationError
from notary.files import write_json, write_text_atomic
from notary.ops.endpoints import resolve_registry, resolve_rpc_url
from notary.ops.keys import load_key

MAX_BATCH_LEAVES: Final = 2**32 - 1
"""The registry stores the leaf count as uint32."""
CERTIFICATE_SUFFIX: Final = ".cert.json"
FINALITY_TIMEOUT_SECONDS: Final = 3600.0
"""Longest `notary stamp` waits for its block to be final (Ethereum: about 13 minutes)."""
EMPTY_FILE: Final = "the file is empty"
"""Why an empty file is refused, in the API's words: every empty file has the same hashes,
so anchoring one would prove nothing about anyone's file."""

Progress = Callable[[str, int], None]
"""progress(stage, advance): stage is 'hash' or 'write'."""


@dataclass(frozen=True)
class Deposit:
    """One file ready to anchor: its evidence and its leaf."""

    path: Path
    evidence: Evidence
    leaf: Leaf


@dataclass(frozen=True)
class StampResult:
    receipt: AnchorReceipt
    certificates: tuple[Path, ...]
    journal: Path


def file_metadata(path: Path, digest: ContentDigest, cid: str) -> Metadata:
    """name, size, media type and CID of a file, as recorded in its evidence."""
    name = os.fsdecode(path.name)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"file name {name!r} is not valid UTF-8") from None
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return validate_metadata(
        {
            "name": name,
            "size": digest.size,
            "media_type": media_type,
            "cid": cid,
            "cid_profile": PROFILE,
        }
    )


def prepare(path: Path, depositor: str) -> Deposit:
    """Hash `path` and build its leaf (with a fresh random salt); an empty file is refused."""
    hasher, cids = StreamHasher(), UnixfsHasher()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK_SIZE):  # one read feeds both
                hasher.update(chunk)
                cids.update(chunk)
    except IsADirectoryError:
        raise ValidationError(f"{path} is a directory; pass files") from None
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}") from exc
    digest = hasher.digest()
    if digest.size == 0:
        raise ValidationError(f"{path}: {EMPTY_FILE}")
    metadata = file_metadata(path, digest, cids.cid())
    evidence = Evidence(sha256=digest.sha256, sm3=digest.sm3, metadata=metadata)
    leaf = Leaf(
        sha256=digest.sha256,
        sm3=digest.sm3,
        metadata_digest=metadata_digest(metadata),
        depositor=depositor,
        salt=secrets.token_bytes(32),
    )
    return Deposit(path=path, evidence=evidence, leaf=leaf)


def certificate_paths(files: Sequence[Path], out_dir: Path | None) -> list[Path]:
    """Where each certificate goes; ValidationError on duplicates or name clashes."""
    resolved = [f.resolve() for f in files]
    if len(set(resolved)) != len(resolved):
        raise ValidationError("a file is listed more than once")
    if out_dir is None:
        return [f.with_name(f.name + CERTIFICATE_SUFFIX) for f in files]
    targets = [out_dir / (f.name + CERTIFICATE_SUFFIX) for f in files]
    if len(set(targets)) != len(targets):
        raise ValidationError("two files share a name; their certificates would clash in --out")
    return targets


def _journal(settings: Settings, root: bytes, deposits: Sequence[Deposit]) -> Path:
    path = settings.data_dir / "batches" / f"0x{root.hex()}.json"
    write_json(
        path,
        {
            "root": "0x" + root.hex(),
            "leaves": [
                {
                    "file": str(d.path),
                    "values": d.leaf.json_values(),
                    "metadata": d.evidence.metadata,
                }
                for d in deposits
            ],
        },
    )
    return path


def stamp(
    settings: Settings,
    files: Sequence[Path],
    *,
    out_dir: Path | None = None,
    depositor: str | None = None,
    progress: Progress | None = None,
) -> StampResult:
    """Anchor `files` as one batch and write their certificates."""
    if not files:
        raise ValidationError("no files to stamp")
    if len(files) > MAX_BATCH_LEAVES:
        raise ValidationError(f"at most {MAX_BATCH_LEAVES} files per batch")
    targets = certificate_paths(files, out_dir)
    rpc_url = resolve_rpc_url(settings)
    address = resolve_registry(settings)
    account: LocalAccount = load_key(settings.notary_key_path, settings)
    who = validate_depositor(depositor or settings.depositor or f"notary:{account.address}")
    deposits = []
    for path in files:
        deposits.append(prepare(path, who))
        if progress:
            progress("hash", 1)
    tree = build_tree([d.leaf.hash() for d in deposits])
    journal = _journal(settings, tree.root, deposits)
    writer = RegistryWriter(connect(rpc_url), address, account, rpc_url)
    receipt = writer.anchor(tree.root, len(deposits))
    # certificates only for a final block (notary.chain.finality), as the service does
    finality = Finality(writer, settings.finality, settings.confirmations)
    wait_final(finality, receipt.anchor.block_number, receipt.block_hash, FINALITY_TIMEOUT_SECONDS)
    anchor = AnchorRecord(
        chain_id=writer.chain_id(),
        registry=writer.address,
        registry_code_hash=writer.code_hash(),
        root=tree.root,
        sequence=receipt.anchor.sequence,
        leaf_count=receipt.anchor.leaf_count,
        notary=receipt.anchor.notary,
        manifest=receipt.anchor.manifest,
        tx_hash=receipt.tx_hash,
        block_number=receipt.anchor.block_number,
        block_hash=receipt.block_hash,
        block_time=receipt.anchor.timestamp,
    )
    for deposit, target in zip(deposits, targets, strict=True):
        leaf_hash = deposit.leaf.hash()
        certificate = Certificate(
            evidence=deposit.evidence,
            leaf=deposit.leaf,
            leaf_hash=leaf_hash,
            proof=tuple(tree.proof(leaf_hash)),
            anchor=anchor,
        )
        write_text_atomic(target, cert_format.dumps(certificate))
        if progress:
            progress("write", 1)
    return StampResult(receipt=receipt, certificates=tuple(targets), journal=journal)
