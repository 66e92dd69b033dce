"""The pinner: puts spooled files on IPFS, checks their CID, then frees the spool.

Every file deposit's bytes are fsynced in <data>/spool before the deposit is acknowledged,
and its CID (computed while receiving) is already in its metadata and leaf. So an IPFS
outage delays pinning but loses nothing: while the node is unreachable the pinner retries
forever; a node that answers with an error is retried MAX_PIN_ATTEMPTS times; a node that
computes another CID than ours is a failure at once (the profile is not what it claims).
Failures are reported in the evidence (pin_state "failed", pin_error) and the spooled file
is kept for the operator. Only a successful, matching pin deletes the spooled copy.
"""

from __future__ import annotations

import io
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from notary.anchoring.loops import run_with_backoff
from notary.core import manifest
from notary.errors import IpfsError, IpfsUnavailableError, NotFoundError
from notary.hooks import events as hooks
from notary.ipfs.client import IpfsStore
from notary.store.db import transaction
from notary.store.models import Batch, Evidence, EvidenceEvent, PinState

log = logging.getLogger("notary.anchoring.pinner")

MAX_PIN_ATTEMPTS: Final = 10
BATCH: Final = 20
"""Files taken per cycle."""


def _event(session: Session, evidence_id: int, kind: str, detail: str) -> None:
    session.add(
        EvidenceEvent(evidence_id=evidence_id, at=datetime.now(UTC), kind=kind, detail=detail[:512])
    )


class Pinner:
    def __init__(self, factory: sessionmaker[Session], ipfs: IpfsStore, spool_dir: Path) -> None:
        self.factory = factory
        self.ipfs = ipfs
        self.spool_dir = spool_dir

    def run_once(self) -> int:
        """Pin what waits (BATCH at a time); return how many got pinned.

        IpfsUnavailableError propagates: the caller backs off and tries again later.
        """
        with transaction(self.factory) as session:
            waiting = session.execute(
                select(Evidence.id, Evidence.cid, Evidence.spool, Evidence.metadata_json)
                .where(Evidence.pin_state == PinState.PENDING.value)
                .order_by(Evidence.id)
                .limit(BATCH)
            ).all()
        pinned = 0
        for evidence_id, cid, spool, metadata in waiting:
            name = str(metadata.get("name", "file"))
            pinned += self._pin(evidence_id, str(cid), self.spool_dir / str(spool), name)
        return pinned + self.pin_manifests()

    def pin_manifests(self) -> int:
        """Pin batch manifests, rebuilt from the stored leaf hashes; check their CID."""
        with transaction(self.factory) as session:
            batches = session.execute(
                select(Batch.id, Batch.manifest, Batch.root)
                .where(Batch.manifest != "", Batch.manifest_pinned.is_(False))
                .order_by(Batch.id)
                .limit(BATCH)
            ).all()
        pinned = 0
        for batch_id, expected, root in batches:
            with transaction(self.factory) as session:
                leaves = list(
                    session.scalars(  # tree order is ascending: let SQL sort
                        select(Evidence.leaf_hash)
                        .where(Evidence.batch_id == batch_id)
                        .order_by(Evidence.leaf_hash)
                    )
                )
            data = manifest.encode_known(leaves, root)  # the CID check below proves it right
            try:
                cid = self.ipfs.add(io.BytesIO(data), f"batch-{batch_id}.json", pin=True)
            except IpfsUnavailableError:
                raise
            except IpfsError as exc:
                log.warning("pin of manifest of batch %s failed: %s", batch_id, exc)
                continue
            if cid != expected:
                log.error(
                    "manifest of batch %s: node computed %s, anchored %s", batch_id, cid, expected
                )
                continue
            with transaction(self.factory) as session:
                row = session.get(Batch, batch_id)
                assert row is not None
                row.manifest_pinned = True
            pinned += 1
        return pinned

    def _pin(self, evidence_id: int, expected: str, path: Path, name: str) -> int:
        try:
            with path.open("rb") as fh:
                cid = self.ipfs.add(fh, name, pin=True)
        except FileNotFoundError:
            self._fail(evidence_id, "the spooled file is missing")
            return 0
        except IpfsUnavailableError:
            raise
        except (IpfsError, NotFoundError) as exc:
            self._retry(evidence_id, str(exc))
            return 0
        if cid != expected:
            self._fail(
                evidence_id,
                f"the IPFS node computed {cid}, the deposit recorded "
                f"{expected}: the node does not apply the unixfs-v1-2025 profile",
            )
            return 0
        with transaction(self.factory) as session:
            row = session.get(Evidence, evidence_id)
            assert row is not None
            row.pin_state, row.spool, row.pin_error = PinState.PINNED.value, None, ""
            _event(session, evidence_id, "pinned", f"pinned on IPFS as {cid}")
            hooks.pin_result(session, row, None)
        path.unlink(missing_ok=True)  # only now: the node holds the bytes
        return 1

    def _retry(self, evidence_id: int, error: str) -> None:
        with transaction(self.factory) as session:
            row = session.get(Evidence, evidence_id)
            assert row is not None
            row.pin_attempts += 1
            row.pin_error = error[:512]
            if row.pin_attempts >= MAX_PIN_ATTEMPTS:
                row.pin_state = PinState.FAILED.value
                _event(
                    session,
                    evidence_id,
                    "pin_failed",
                    f"gave up after {row.pin_attempts} attempts: {error}",
                )
                hooks.pin_result(session, row, row.pin_error)
        log.warning("pin of evidence %s failed: %s", evidence_id, error)

    def _fail(self, evidence_id: int, error: str) -> None:
        with transaction(self.factory) as session:
            row = session.get(Evidence, evidence_id)
            assert row is not None
            row.pin_state, row.pin_error = PinState.FAILED.value, error[:512]
            _event(session, evidence_id, "pin_failed", error)
            hooks.pin_result(session, row, row.pin_error)
        log.error("pin of evidence %s failed for good: %s", evidence_id, error)

    def run_forever(self, stop: threading.Event, poll_seconds: float = 0.2) -> None:
        """Run cycles until `stop` is set; an unreachable node pauses pinning with backoff.
        A consortium batch is proposed only once its manifest is pinned, so this poll is on
        the path of every anchor (0.5 s here added about 0.25 s to the median latency)."""
        run_with_backoff(self.run_once, stop, poll_seconds, IpfsUnavailableError, log, "pinning")
