"""The monitor's side of the running service: fingerprinting deposits, watch lists,
captures, alerts. NotaryService holds one Monitor and delegates to it (the routes call
NotaryService only)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from notary.core.leaf import Metadata
from notary.deposit.content import FileContent
from notary.deposit.files import deposit_received
from notary.deposit.request import DepositOutcome, OnCreated
from notary.deposit.spool import drop
from notary.deposit.writer import DepositWriter
from notary.errors import (
    ImageRefusedError,
    NotaryError,
    PayloadTooLargeError,
    ValidationError,
)
from notary.ipfs.client import IpfsStore
from notary.issue.retrieve import content
from notary.monitor import alerts as alert_store
from notary.monitor import captures, designs, watch
from notary.monitor.alerts import AlertPage, AlertView
from notary.monitor.captures import CaptureView, Recording
from notary.monitor.designs import MAX_FINGERPRINT_BYTES
from notary.monitor.fingerprint import (
    Fingerprinted,
    ImageStatus,
    fingerprint_capture,
    fingerprint_design,
    parse_hex,
)
from notary.monitor.report import report as match_report
from notary.monitor.thumbnails import thumbnail
from notary.monitor.watch import WatchSettings
from notary.monitor.watcher import Match, Watcher, similar
from notary.monitor.workers import Fingerprinter
from notary.store.orgs import OrgView

CAPTURE_SYNC_SECONDS = 1.0
"""A capture is matched against designs other instances on the same database committed
up to this long ago (this process's own deposits and watch-list changes count at once)."""
MAX_FINGERPRINTS_GIVEN = 16
"""Most client-computed fingerprints one hash deposit may carry."""


@dataclass(frozen=True)
class Received:
    """An uploaded file: its content, declared metadata and (if it fit) its bytes."""

    file: FileContent
    declared: Metadata
    data: bytes | None


class Monitor:
    def __init__(
        self,
        factory: sessionmaker[Session],
        writer: DepositWriter,
        ipfs: IpfsStore | None,
        spool_dir: Path,
    ) -> None:
        self.factory = factory
        self.writer = writer
        self.ipfs = ipfs
        self.spool_dir = spool_dir
        self.watcher = Watcher(factory)
        self.watcher.rebuild()
        self.fingerprinter = Fingerprinter()
        """Worker processes that decode and fingerprint images (started on first use)."""

    def stop(self) -> None:
        self.fingerprinter.close()

    # -- designs -----------------------------------------------------------------------

    async def deposit_file(
        self, org: OrgView, upload: Received, idempotency_key: str | None
    ) -> DepositOutcome:
        """Fingerprint the file (off the event loop), then record it and its fingerprints
        in one transaction; the watch index learns the design once it is committed."""
        size = upload.file.hashes.digest.size
        try:
            result: Fingerprinted | None = None  # bytes not kept: no status recorded
            if size > MAX_FINGERPRINT_BYTES:
                result = designs.too_large(size)
            elif upload.data is not None:
                result = await self.fingerprinter.run(fingerprint_design, upload.data)
        except BaseException:
            if upload.file.spool is not None:
                drop(upload.file.spool)
            raise
        hook = designs.recorder(result, designs.SERVER) if result is not None else None
        outcome = await deposit_received(
            self.writer, org, upload.file, upload.declared, idempotency_key, hook
        )
        if outcome.created and result is not None and result.fingerprints:
            await asyncio.to_thread(self.watcher.sync)
        if outcome.created and result is not None:  # the answer says what GET will say
            recorded = (result.status.value, designs.recorded_detail(result))
            outcome = replace(outcome, view=replace(outcome.view, fingerprint=recorded))
        return outcome

    def client_fingerprints(self, given: list[tuple[str, str]]) -> OnCreated | None:
        """The deposit hook storing fingerprints a client computed for a hash deposit;
        ValidationError (from parse_hex) for a malformed one."""
        if not given:
            return None
        if len(given) > MAX_FINGERPRINTS_GIVEN:
            raise ValidationError(f"at most {MAX_FINGERPRINTS_GIVEN} fingerprints a deposit")
        parsed = tuple(parse_hex(kind, text) for kind, text in given)
        return designs.recorder(designs.client_given(parsed), designs.CLIENT)

    def designs_changed(self) -> None:
        """After hash deposits that carried fingerprints: bring the index up to date."""
        self.watcher.sync()

    def fingerprint_info(self, evidence_row_id: int) -> designs.FingerprintInfo:
        with self.factory() as session:
            return designs.info(session, evidence_row_id)

    # -- watch lists -------------------------------------------------------------------

    def watch_list(self, org: OrgView) -> WatchSettings:
        return watch.get(self.factory, org)

    def set_watch_list(self, org: OrgView, settings: WatchSettings) -> WatchSettings:
        stored = watch.put(self.factory, org, settings)
        self.watcher.sync()
        return stored

    # -- captures ----------------------------------------------------------------------

    async def capture(self, org: OrgView, upload: Received) -> CaptureView:
        """Fingerprint, match and deposit a capture; its alerts commit with it."""
        try:
            info = captures.capture_info(upload.declared)
            if upload.data is None:
                raise PayloadTooLargeError(
                    f"captures are at most {MAX_FINGERPRINT_BYTES // (1024 * 1024)} MiB"
                )
            result = await self.fingerprinter.run(fingerprint_capture, upload.data)
            if result.status is not ImageStatus.OK:
                raise ImageRefusedError(result.detail, result.status.value)
            matches = await self._match(result)
        except BaseException:
            if upload.file.spool is not None:
                drop(upload.file.spool)
            raise
        recording = Recording(org, info, matches)
        stored = designs.recorder(result, designs.SERVER)

        def hook(session: Session, evidence_id: int) -> None:
            stored(session, evidence_id)
            recording.record(session, evidence_id)

        outcome = await deposit_received(self.writer, org, upload.file, info.metadata, None, hook)
        if not outcome.created:
            return await asyncio.to_thread(captures.existing, self.factory, org, outcome.public_id)
        return CaptureView(
            recording.capture_id,
            outcome.public_id,
            True,
            info.source_url,
            info.shop,
            info.price,
            info.captured_at,
            recording.disclosed,
        )

    async def _match(self, result: Fingerprinted) -> list[Match]:
        """The watched designs the capture matches: candidates from the index (in a thread:
        the index and the database are not the event loop's work), the second look at the
        unsure ones in a worker process (CPU), the decision here."""

        def candidates() -> tuple[dict[int, list[Match]], dict[int, bytes]]:
            self.watcher.sync(CAPTURE_SYNC_SECONDS)
            found = self.watcher.candidates(result.fingerprints)
            unsure = self.watcher.unsure(found)
            if not unsure or result.probe is None:
                return found, {}
            return found, self.watcher.sketches(unsure)

        found, stored = await asyncio.to_thread(candidates)
        alike: dict[int, float] = {}
        if stored and result.probe is not None:
            alike = await self.fingerprinter.call(similar, result.probe, stored)
        return self.watcher.decide(found, alike)

    # -- alerts ------------------------------------------------------------------------

    def alerts(self, org: OrgView, **query: object) -> AlertPage:
        return alert_store.listing(self.factory, org, **query)  # type: ignore[arg-type]

    def alert(self, org: OrgView, alert_id: str) -> AlertView:
        return alert_store.get(self.factory, org, alert_id)

    def set_alert_status(self, org: OrgView, alert_id: str, status: str) -> AlertView:
        return alert_store.set_status(self.factory, org, alert_id, status)

    def thumbnail(self, org: OrgView, alert_id: str, side: str) -> bytes:
        """A small PNG of the alert's design or capture, read as its owner."""
        parts = alert_store.parts(self.factory, org, alert_id)
        if side == "design":
            owner, public_id = parts.owner, parts.design_id
        elif side == "capture":
            owner, public_id = parts.finder, parts.capture_evidence_id
        else:
            raise ValidationError("side must be design or capture")
        file = content(self.factory, owner, public_id, self.ipfs, self.spool_dir)
        return thumbnail(file.chunks, MAX_FINGERPRINT_BYTES)

    def parts(self, org: OrgView, alert_id: str) -> alert_store.AlertParts:
        return alert_store.parts(self.factory, org, alert_id)

    def report(self, org: OrgView, alert_id: str) -> dict[str, Any]:
        """The JSON match report of one of the caller's alerts (notary.monitor.report)."""
        return match_report(alert_store.get(self.factory, org, alert_id))

    def report_pdf(self, org: OrgView, alert_id: str) -> bytes:
        """The match report printed, with both thumbnails where the files are at hand."""
        from notary.monitor.report_pdf import render  # fpdf2: slow to import

        doc = self.report(org, alert_id)
        pictures: list[bytes | None] = []
        for side in ("design", "capture"):
            try:
                pictures.append(self.thumbnail(org, alert_id, side))
            except NotaryError:  # a hash-only design, a file IPFS cannot give now
                pictures.append(None)
        return render(doc, pictures[0], pictures[1])
