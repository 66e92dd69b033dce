"""File deposits: the deposit request of a received file, and what becomes of its spool copy.

A received file's bytes are kept in the spool (notary.deposit.spool) for the pinner. Only the
deposit that creates the evidence keeps its copy: when the content was deposited before,
that first deposit's copy counts, and a refused deposit records nothing to pin.
"""

from __future__ import annotations

from notary.core.leaf import Metadata
from notary.deposit.content import FileContent, file_metadata
from notary.deposit.request import DepositOutcome, DepositRequest
from notary.deposit.spool import drop
from notary.deposit.writer import DepositWriter
from notary.store.orgs import OrgView


def file_request(
    file: FileContent, declared: Metadata, idempotency_key: str | None = None
) -> DepositRequest:
    """The deposit of a received file: its hashes, its metadata (notary.deposit.content),
    its CID and the name of its spool copy."""
    digest = file.hashes.digest
    return DepositRequest(
        sha256=digest.sha256,
        sm3=digest.sm3,
        metadata=file_metadata(file, declared),
        kind="file",
        idempotency_key=idempotency_key,
        cid=file.hashes.cid,
        spool=file.spool.name if file.spool is not None else None,
    )


async def deposit_received(
    writer: DepositWriter,
    org: OrgView,
    file: FileContent,
    declared: Metadata,
    idempotency_key: str | None = None,
) -> DepositOutcome:
    """Deposit a received file through the writer; resume once it is committed.

    Its spool copy is dropped unless this deposit created the evidence: the copy of known
    content, and of a deposit that failed, is never pinned. A request cancelled while its
    deposit is being written keeps the copy: the writer may still commit the deposit, and
    its evidence needs those bytes (an unused copy costs disk space, a missing one the file).
    """
    request = file_request(file, declared, idempotency_key)
    try:
        (outcome,) = await writer.deposit_async(org, [request])
    except Exception:
        if file.spool is not None:
            drop(file.spool)
        raise
    if file.spool is not None and not outcome.created:
        drop(file.spool)
    return outcome
