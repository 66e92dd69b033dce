"""`notary stamp FILE...`: hash files, anchor them as one batch, write one certificate each.

Before the anchor transaction is sent, the batch (every leaf with its salt and metadata)
is journaled to <data>/batches/<root>.json, so a crash after anchoring never leaves an
anchor whose certificates cannot be rebuilt. Durable queuing of deposits is the service's
job; this command anchors what it is given, at once.

Like the service's batches, a stamped batch is auditable from public data: its manifest
(notary.core.manifest, the same format) is pinned on the IPFS node first, its CID checked
against the one computed here, and the anchor names that CID, so `notary audit rebuild`
rebuilds the root. No IPFS node reachable means nothing is anchored.

An issuer without a store: a file's metadata follows the API's rule (notary.deposit.content)
and its certificate comes from the one issuer (notary.issue.issuer). Nothing here needs the
database, so the base install stamps files too.
"""

from __future__ import annotations

import io
import mimetypes
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from notary.chain.finality import Finality, wait_final
from notary.chain.registry import AnchorReceipt, connect_writer
from notary.config import Settings
from notary.core import certificate as cert_format
from notary.core import manifest
from notary.core.certificate import EvidenceRecord
from notary.core.hashing import EMPTY_CONTENT, ContentHash, hash_content
from notary.core.leaf import Leaf, Metadata, metadata_digest, validate_depositor, validate_metadata
from notary.core.merkle import MerkleTree, build_tree
from notary.deposit.content import FileContent, file_metadata
from notary.errors import ConflictError, IpfsError, ValidationError
from notary.files import write_json, write_text_atomic
from notary.ipfs.client import IpfsStore, KuboRpc
from notary.issue.issuer import anchor_record, issue
from notary.ops.endpoints import (
    resolve_ipfs_api,
    resolve_registry,
    resolve_registry_kind,
    resolve_rpc_url,
)
from notary.ops.keys import load_key

MAX_BATCH_LEAVES: Final = 2**32 - 1
"""The registry stores the leaf count as uint32."""
CERTIFICATE_SUFFIX: Final = ".cert.json"
FINALITY_TIMEOUT_SECONDS: Final = 3600.0
"""Longest `notary stamp` waits for its block to be final (Ethereum: about 13 minutes)."""

Progress = Callable[[str, int], None]
"""progress(stage, advance): stage is 'hash' or 'write'."""


@dataclass(frozen=True)
class Deposit:
    """One file ready to anchor: its evidence and its leaf."""

    path: Path
    evidence: EvidenceRecord
    leaf: Leaf


@dataclass(frozen=True)
class StampResult:
    receipt: AnchorReceipt
    certificates: tuple[Path, ...]
    journal: Path


def _metadata(path: Path, hashes: ContentHash) -> Metadata:
    """The metadata of a stamped file: as the API records a file deposit's (name, media
    type, size, CID), its name taken from the path and its media type guessed from that."""
    name = os.fsdecode(path.name)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"file name {name!r} is not valid UTF-8") from None
    file = FileContent(hashes, name, mimetypes.guess_type(name)[0])
    return validate_metadata(file_metadata(file, {}))


def prepare(path: Path, depositor: str) -> Deposit:
    """Hash `path` and build its leaf (with a fresh random salt); an empty file is refused."""
    try:
        with path.open("rb") as fh:
            hashes = hash_content(fh)
    except IsADirectoryError:
        raise ValidationError(f"{path} is a directory; pass files") from None
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}") from exc
    digest = hashes.digest
    if digest.size == 0:
        raise ValidationError(f"{path}: {EMPTY_CONTENT}")
    metadata = _metadata(path, hashes)
    evidence = EvidenceRecord(sha256=digest.sha256, sm3=digest.sm3, metadata=metadata)
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


def pin_manifest(ipfs: IpfsStore, tree: MerkleTree) -> str:
    """Pin the batch manifest of `tree` on `ipfs`; its CID, checked against our own."""
    data = manifest.encode_known(tree.leaves, tree.root)
    expected = manifest.cid_of(data)
    cid = ipfs.add(io.BytesIO(data), f"stamp-0x{tree.root.hex()}.json", pin=True)
    if cid != expected:
        raise IpfsError(f"the IPFS node stored the manifest as {cid}, not {expected}")
    return expected


def _journal(
    settings: Settings, root: bytes, manifest_cid: str, deposits: Sequence[Deposit]
) -> Path:
    path = settings.data_dir / "batches" / f"0x{root.hex()}.json"
    write_json(
        path,
        {
            "root": "0x" + root.hex(),
            "manifest": manifest_cid,
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
    ipfs: IpfsStore | None = None,
) -> StampResult:
    """Anchor `files` as one batch, its manifest pinned on `ipfs` (by default the node of
    NOTARY_IPFS_API or the devnet record), and write their certificates."""
    if not files:
        raise ValidationError("no files to stamp")
    if len(files) > MAX_BATCH_LEAVES:
        raise ValidationError(f"at most {MAX_BATCH_LEAVES} files per batch")
    targets = certificate_paths(files, out_dir)
    rpc_url = resolve_rpc_url(settings)
    address = resolve_registry(settings)
    if resolve_registry_kind(settings, rpc_url, address) == "consortium":
        raise ConflictError(
            f"the registry {address} is a ConsortiumRegistry: each anchor needs the "
            "endorsements of k member organizations, which only the service's endorsement "
            "round gathers (deposit through the API: `notary deposit`), and `notary stamp` "
            "has none. Stamp on a single-operator EvidenceRegistry instead "
            "(NOTARY_CONSORTIUM_ENDORSERS=0 `notary deploy` in another data directory)."
        )
    account = load_key(settings.notary_key_path, settings)
    if ipfs is None:
        ipfs = KuboRpc(resolve_ipfs_api(settings), settings.ipfs_token)
    who = validate_depositor(depositor or settings.depositor or f"notary:{account.address}")
    deposits = []
    for path in files:
        deposits.append(prepare(path, who))
        if progress:
            progress("hash", 1)
    leaf_hashes = [d.leaf.hash() for d in deposits]
    tree = build_tree(leaf_hashes)
    manifest_cid = pin_manifest(ipfs, tree)
    journal = _journal(settings, tree.root, manifest_cid, deposits)
    writer = connect_writer(rpc_url, address, account)
    receipt = writer.anchor(tree.root, len(deposits), manifest_cid)
    # certificates only for a final block (notary.chain.finality), as the service does
    finality = Finality(writer, settings.finality, settings.confirmations)
    wait_final(finality, receipt.anchor.block_number, receipt.block_hash, FINALITY_TIMEOUT_SECONDS)
    anchor = anchor_record(
        receipt,
        chain_id=writer.chain_id(),
        registry=writer.address,
        registry_code_hash=writer.code_hash(),
    )
    for deposit, leaf_hash, target in zip(deposits, leaf_hashes, targets, strict=True):
        certificate = issue(deposit.evidence, deposit.leaf, leaf_hash, tree, anchor)
        write_text_atomic(target, cert_format.dumps(certificate))
        if progress:
            progress("write", 1)
    return StampResult(receipt=receipt, certificates=tuple(targets), journal=journal)
