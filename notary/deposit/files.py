"""File deposits: the deposit request of a received file, and what becomes of its spool copy.

A received file's bytes are kept in the spool (notary.deposit.spool) for the pinner. Only the
deposit that creates the evidence keeps its copy: when the content was deposited before,
that first deposit's copy counts, and a refused deposit records nothing to pin.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from notary.core.leaf import Metadata
from notary.deposit.content import FileContent, file_metadata
from notary.deposit.request import DepositOutcome, DepositRequest, OnCreated
from notary.deposit.spool import drop
from notary.deposit.writer import DepositWriter
from notary.store.orgs import OrgView


def file_request(
    file: FileContent,
    declared: Metadata,
    idempotency_key: str | None = None,
    on_created: OnCreated | None = None,
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
        signature=file.signature,
        signer=file.signer,
        on_created=on_created,
    )


async def deposit_received(
    writer: DepositWriter,
    org: OrgView,
    file: FileContent,
    declared: Metadata,
    idempotency_key: str | None = None,
    on_created: OnCreated | None = None,
) -> DepositOutcome:
    """Deposit a received file through the writer; resume once it is committed.

    Its spool copy is dropped unless this deposit created the evidence: the copy of known
    content, and of a deposit that failed, is never pinned. A request cancelled while its
    deposit is being written (the client went away) does not decide for the writer: the
    deposit may still commit, and its evidence then needs those bytes, so the copy is kept
    or dropped once the writer has answered.
    """
    try:
        request = file_request(
            file, declared, idempotency_key, on_created
        )  # may refuse the metadata
    except Exception:
        _drop(file.spool)
        raise
    pending = asyncio.ensure_future(writer.deposit_async(org, [request]))
    try:
        (outcome,) = await asyncio.shield(pending)
    except asyncio.CancelledError:
        pending.add_done_callback(lambda done: _settle(done, file.spool))
        raise
    except Exception:
        _drop(file.spool)
        raise
    if not outcome.created:
        _drop(file.spool)
    return outcome


def _settle(done: asyncio.Future[list[DepositOutcome]], spool: Path | None) -> None:
    """After a cancelled request: keep the copy only if its deposit created the evidence."""
    created = not done.cancelled() and done.exception() is None and done.result()[0].created
    if not created:
        _drop(spool)


def _drop(spool: Path | None) -> None:
    if spool is not None:
        drop(spool)
