"""The running notary: store, deposit writer, key cache, anchoring parts, from Settings.

The HTTP app holds one NotaryService and calls its methods (deposit, view, certificate,
content, bundle, organizations and keys, readiness); the routes reach none of its parts
(tests/unit/test_layout.py checks it). Everything here is usable without HTTP (tests, CLI).
`start` runs the batcher and the pinner in the anchoring process (notary.anchoring.process).
Deposits are accepted while the chain is down; the batcher keeps retrying in the background.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Final

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from notary.anchoring.assembly import Anchoring
from notary.anchoring.key_changes import KeyChange
from notary.anchoring.process import AnchoringSupervisor
from notary.anchoring.proposals import EndorserSeen, Proposal, Proposals
from notary.anchoring.report import ReconciliationReport, reconciliation_report
from notary.chain.artifact import published_code_hashes
from notary.chain.consortium import ConsortiumWriter
from notary.chain.eip712 import Report
from notary.chain.registry import OnChainAnchor
from notary.config import Settings
from notary.core.certificate import Certificate
from notary.core.leaf import Metadata
from notary.deposit import signing
from notary.deposit.content import FileContent, file_metadata
from notary.deposit.depositors import DepositorKeys, SigningInfo, no_consortium
from notary.deposit.ratelimit import RateLimiter
from notary.deposit.request import DepositOutcome, DepositRequest, OnCreated
from notary.deposit.spool import drop as drop_spool
from notary.deposit.writer import DepositWriter
from notary.errors import (
    ChainError,
    ConflictError,
    ForbiddenError,
    IpfsError,
    NotFoundError,
)
from notary.hooks import endpoints
from notary.hooks.endpoints import DeliveryView, NewWebhook, WebhookView
from notary.hooks.events import backlog
from notary.issue import certificates as issued
from notary.issue.anchor_watch import AnchorWatch
from notary.issue.certificates import IssuedCertificate
from notary.issue.retrieve import Content, content, write_bundle
from notary.issue.search import Page, Query, search
from notary.issue.trees import TreeCache
from notary.issue.views import EvidenceView, view, views
from notary.monitor import designs
from notary.monitor.alerts import AlertPage, AlertView
from notary.monitor.captures import CaptureView
from notary.monitor.designs import MAX_FINGERPRINT_BYTES
from notary.monitor.desk import Monitor, Received
from notary.monitor.watch import WatchSettings
from notary.ops.metrics import Metrics, lock_held
from notary.share import access as share_access
from notary.share import access_log as share_log
from notary.share import shares as share_store
from notary.share.access import Origin
from notary.share.access_log import AccessEntry
from notary.share.lookup import ClientLimiter, lookup
from notary.share.shares import SharedPage, ShareView
from notary.store import orgs, stats
from notary.store.db import database_url, make_engine, make_sessionmaker
from notary.store.depositor_keys import DepositorKeyView
from notary.store.models import Role
from notary.store.orgs import DEFAULT_GRACE, KeyCache, KeyInfo, NewKey, OrgView, expiry
from notary.verify import audit
from notary.verify.audit import AuditedAnchor
from notary.verify.certificate import Verdict, verify

log = logging.getLogger("notary.service")

MAX_WAIT_SECONDS: Final = 60.0
"""Longest a request may block waiting for its deposit to be anchored."""


@dataclass(frozen=True)
class Readiness:
    database: bool
    chain: bool
    registry: bool
    detail: dict[str, str]
    ipfs: bool | None = None
    """Whether the IPFS node answers; None when none is configured. Not part of `ready`:
    file deposits are accepted while it is down (they wait in the spool to be pinned)."""

    @property
    def ready(self) -> bool:
        return self.database and self.chain and self.registry


class NotaryService:
    """Owns the engine, the deposit writer, the tree cache, the registry writer and the
    anchoring process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(database_url(settings.data_dir, settings.database_url))
        self.factory = make_sessionmaker(self.engine)
        self.anchor_watch = AnchorWatch(self.factory)
        self.deposits = DepositWriter(self.factory)
        self.keys = KeyCache(self.factory, settings.key_cache_seconds)
        self.limiter = (
            RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
            if settings.rate_limit_per_second > 0
            else None
        )
        self.lookups = ClientLimiter(
            settings.public_lookup_per_second, settings.public_lookup_burst
        )
        """Rate limit of the keyless certificate lookup, per client address."""
        self.endorser_calls = ClientLimiter(
            settings.consortium_requests_per_second, settings.consortium_requests_burst
        )
        """Rate limit of the keyless endorser routes (/v1/consortium), per client address:
        each post costs a signature recovery, so strangers cannot make it a CPU sink."""
        self.trees = TreeCache()
        self.parts = Anchoring(settings, self.engine)
        """The anchoring parts: this process reads through them; the anchoring process runs
        their loops."""
        self.rpc_url = self.parts.rpc_url
        self.registry = self.parts.writer.reader()
        """Reads of the registry (audit, readiness): no key, nothing is sent. The signing
        writer is the anchoring process's (notary.anchoring.assembly)."""
        self.spool_dir = self.parts.spool_dir
        self.ipfs = self.parts.ipfs
        writer = self.parts.writer
        self.proposals = (
            Proposals(self.factory, writer.reader())
            if isinstance(writer, ConsortiumWriter)
            else None
        )
        """The endorsement round's notary side (consortium mode only)."""
        self.depositor_keys = (
            DepositorKeys(settings, self.factory, writer.reader())
            if isinstance(writer, ConsortiumWriter)
            else None
        )
        """Depositor keys and signatures (consortium mode only)."""
        self.code_hashes = published_code_hashes(2 if self.proposals is not None else 1)
        """The registry code this service anchors on (the published v1 build, or the
        ConsortiumRegistry build in consortium mode)."""
        self._anchoring: AnchoringSupervisor | None = None
        self.metrics = self._metrics() if settings.metrics else None
        """The series of GET /metrics (notary.ops.metrics); None when turned off."""
        self.monitor = Monitor(self.factory, self.deposits, self.ipfs, self.spool_dir)
        """Early warning (notary.monitor): its watch index is built from the database here."""

    def start(self) -> None:
        """Start anchoring and pinning in the anchoring process (notary.anchoring.process)."""
        self._anchoring = AnchoringSupervisor(self.settings)
        self._anchoring.start()

    def stop(self) -> None:
        if self._anchoring is not None:
            self._anchoring.stop()
        self.deposits.stop()
        self.monitor.stop()
        self.parts.close()

    def readiness(self) -> Readiness:
        detail: dict[str, str] = {}
        database = chain = registry = False
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            database = True
        except SQLAlchemyError as exc:
            detail["database"] = type(exc).__name__
        try:
            detail["chain_id"] = str(self.registry.chain_id())
            chain = True
            registry = self.registry.code_hash() in self.code_hashes
            if not registry:
                detail["registry"] = f"no published registry at {self.registry.address}"
        except ChainError as exc:
            detail["chain"] = str(exc)
        ipfs: bool | None = None
        if self.ipfs is not None:
            try:
                detail["ipfs_peer_id"] = self.ipfs.identity()
                ipfs = True
            except IpfsError as exc:
                detail["ipfs"] = str(exc)
                ipfs = False
        if self.proposals is not None:
            self._consortium_readiness(detail)
        if self._anchoring is not None:
            anchoring = self._anchoring
            detail["anchoring"] = (
                f"running (pid {anchoring.pid})" if anchoring.running else "restarting"
            )
        return Readiness(database, chain, registry, detail, ipfs)

    def _consortium_readiness(self, detail: dict[str, str]) -> None:
        """Endorsers seen recently and batches awaiting endorsement (not part of `ready`:
        deposits are accepted while batches wait)."""
        assert self.proposals is not None
        detail["awaiting_endorsement"] = str(self.proposals.awaiting())
        try:
            seen = self.proposals.endorsers()
        except ChainError as exc:
            detail["endorsers"] = f"unknown: {exc}"
            return
        recent = [e for e in seen if Proposals.recently(e)]
        detail["endorsers"] = (
            f"{len(recent)} of {len(seen)} seen in the last 60 s: "
            + ", ".join(f"{e.name} ({e.address})" for e in recent)
        ).rstrip(": ")

    def _consortium(self, remote: str | None) -> Proposals:
        """The endorsement round's notary side; one request of `remote`'s rate spent."""
        self.endorser_calls.take(remote)
        if self.proposals is None:
            raise NotFoundError(
                "this notary anchors on a single-operator registry: there is no consortium "
                "(NOTARY_CONSORTIUM_ENDORSERS is 0)"
            )
        return self.proposals

    def consortium_proposals(self, remote: str | None = None) -> list[Proposal]:
        """Batches awaiting endorsement (keyless: the endorsers need no API key)."""
        return self._consortium(remote).pending()

    def endorsers_seen(self, remote: str | None = None) -> list[EndorserSeen]:
        """Every current endorser and when this notary last heard from it."""
        return self._consortium(remote).endorsers()

    def endorse(
        self, root: bytes, batch_time: int, signature: bytes, remote: str | None = None
    ) -> str:
        """Store an endorsement that recovers to a current endorser; its signer."""
        return self._consortium(remote).endorse(root, batch_time, signature)

    def consortium_key_changes(self, remote: str | None = None) -> list[KeyChange]:
        """Depositor key changes awaiting the endorsers' approval (keyless)."""
        return self._consortium(remote).key_changes.proposed()

    def approve_key_change(self, digest: bytes, signature: bytes, remote: str | None = None) -> str:
        """Store an approval that recovers to a current endorser; its signer."""
        return self._consortium(remote).key_changes.approve(digest, signature)

    def endorser_report(self, report: Report, signature: bytes, remote: str | None = None) -> str:
        """Record an endorser's signed refusal or heartbeat; its signer."""
        return self._consortium(remote).report(report, signature)

    def _metrics(self) -> Metrics:
        """The registry, with the series read from the database, the chain and IPFS nodes
        and the anchoring lock at each scrape (notary.store.stats, notary.ops.metrics)."""
        m = Metrics()
        factory = self.factory
        m.gauge(
            "notary_deposits_waiting",
            "Deposits not anchored yet, by status: pending (waiting for a batch), batched "
            "(its anchor is being sent), confirming (mined, its block not final yet).",
            lambda: stats.deposits_waiting(factory),
            label="status",
        )
        m.gauge(
            "notary_oldest_pending_deposit_seconds",
            "Age of the oldest deposit waiting for a batch (0 when none waits).",
            lambda: stats.oldest_pending_seconds(factory),
        )
        m.gauge(
            "notary_pins",
            "Files waiting to be pinned to IPFS (state=pending: the pin queue) and files "
            "whose pinning failed for good (state=failed).",
            lambda: stats.pins(factory),
            label="state",
        )
        m.gauge(
            "notary_batches_under_way",
            "Batches formed but not final yet, by status (built, awaiting_endorsement: "
            "consortium mode, fewer than k endorsements yet; signed, confirming).",
            lambda: stats.batches_under_way(factory),
            label="status",
        )
        m.gauge(
            "notary_up",
            "1 when a part the service needs answers: database, chain (the RPC node), "
            "registry (the published contract at the configured address), ipfs (the node).",
            self._health,
            label="part",
        )
        m.gauge(
            "notary_webhook_backlog",
            "Webhook messages not delivered yet and not given up (notary.hooks outbox).",
            self.webhook_backlog,
        )
        lock = self.settings.data_dir / "anchoring.lock"
        m.gauge(
            "notary_anchoring_up",
            "1 while an anchoring process holds this data directory's anchoring lock.",
            lambda: float(lock_held(lock)),
        )
        histograms = stats.BatchHistograms(factory)
        m.histogram(
            "notary_batch_size",
            "Deposits (leaves) per anchored batch.",
            lambda: histograms.read()[0],
        )
        m.histogram(
            "notary_anchor_latency_seconds",
            "Seconds from a batch being formed to its anchor being final, per anchored batch "
            "(a deposit waits up to NOTARY_BATCH_INTERVAL_SECONDS for its batch before).",
            lambda: histograms.read()[1],
        )
        return m

    def _health(self) -> dict[str, float]:
        r = self.readiness()
        parts = {"database": r.database, "chain": r.chain, "registry": r.registry}
        if r.ipfs is not None:  # None: no IPFS node configured
            parts["ipfs"] = r.ipfs
        return {k: float(v) for k, v in parts.items()}

    def metrics_text(self) -> bytes:
        """Every metric in Prometheus's text format; NotFoundError when metrics are off."""
        if self.metrics is None:
            raise NotFoundError("metrics are turned off (NOTARY_METRICS)")
        return self.metrics.exposition()

    def metrics_token(self) -> str | None:
        """The bearer token GET /metrics asks for (NOTARY_METRICS_TOKEN); None: no token."""
        token = self.settings.metrics_token
        return token.get_secret_value() if token is not None else None

    async def wait_anchored(
        self, org: OrgView, public_ids: list[str], timeout: float
    ) -> list[EvidenceView]:
        """Views of `public_ids` once all are anchored, or when `timeout` passes (capped at
        MAX_WAIT_SECONDS), whichever comes first.

        A coroutine: a waiting request holds a worker thread only while it reads the
        database, not while it sleeps, so a hundred requests waiting for their anchor do
        not use up the 40 worker threads that every other request needs; and it reads its
        evidence again only when some batch moved (notary.issue.anchor_watch), not ten
        times a second.
        """
        deadline = time.monotonic() + min(max(timeout, 0.0), MAX_WAIT_SECONDS)
        while True:
            mark = await self.anchor_watch.mark()  # before the read it guards
            current = await asyncio.to_thread(views, self.factory, org, public_ids)
            if all(v.status == "anchored" for v in current):
                return current
            if await self.anchor_watch.moved(mark, deadline) is None:
                return await asyncio.to_thread(views, self.factory, org, public_ids)

    def view(self, org: OrgView, public_id: str, origin: Origin | None = None) -> EvidenceView:
        """The evidence with its history, to its owner or a grantee (notary.share.access)."""
        return view(self.factory, self.access(org, public_id, "view", origin), public_id)

    # -- deposits ----------------------------------------------------------------------

    @property
    def max_upload_bytes(self) -> int:
        return self.settings.max_upload_bytes

    @property
    def upload_spool(self) -> Path | None:
        """Where an upload's bytes wait for the pinner; None when no IPFS node keeps files
        (they are then hashed and not kept)."""
        return self.spool_dir if self.ipfs is not None else None

    async def deposit(self, org: OrgView, requests: list[DepositRequest]) -> list[DepositOutcome]:
        """Record deposits through the group-commit writer; resume once they are committed.
        Depositor signatures are checked first (notary.deposit.signing): a refused one
        refuses the whole request, before anything is written."""
        if org.require_signature or any(r.signature is not None for r in requests):
            requests = await asyncio.to_thread(self._signed, org, requests)
        outcomes = await self.deposits.deposit_async(org, requests)
        self._count(requests, outcomes)
        if log.isEnabledFor(logging.DEBUG):  # with the request id: request -> evidence ids
            ids = [o.public_id for o in outcomes]
            log.debug("deposited %d", len(ids), extra={"evidence": " ".join(ids[:10])})
        return outcomes

    def _count(self, requests: list[DepositRequest], outcomes: list[DepositOutcome]) -> None:
        """Count the evidence created (outcomes come in the order of the requests)."""
        if self.metrics is not None:
            created = Counter(r.kind for r, o in zip(requests, outcomes, strict=True) if o.created)
            for kind, n in created.items():
                self.metrics.deposits.labels(kind).inc(n)

    async def deposit_file(
        self,
        org: OrgView,
        file: FileContent,
        declared: Metadata,
        idempotency_key: str | None = None,
        data: bytes | None = None,
    ) -> DepositOutcome:
        """Record a received file (notary.deposit.files): its spool copy is kept only when
        this deposit created the evidence. With its bytes (`data`, at most
        `fingerprint_bytes`), it is fingerprinted first and its fingerprints are recorded
        with it (notary.monitor)."""
        if org.require_signature or file.signature is not None:
            try:
                final = file_metadata(file, declared)  # what the leaf will commit to
                probe = DepositRequest(
                    file.hashes.digest.sha256, file.hashes.digest.sm3, final, "file",
                    signature=file.signature,
                )  # fmt: skip
                (checked,) = await asyncio.to_thread(self._signed, org, [probe])
            except Exception:
                if file.spool is not None:  # refused: nothing of it is kept
                    drop_spool(file.spool)
                raise
            file = dataclasses.replace(file, signer=checked.signer)
        received = Received(file, declared, data)
        outcome = await self.monitor.deposit_file(org, received, idempotency_key)
        if self.metrics is not None and outcome.created:
            self.metrics.deposits.labels("file").inc()
        log.debug("deposited 1", extra={"evidence": outcome.public_id})
        return outcome

    async def with_fingerprint(
        self, org: OrgView, outcome: DepositOutcome, view: EvidenceView, hash_given: bool = False
    ) -> EvidenceView:
        """`view`, the answer to a single deposit, with the fingerprint status that
        GET /v1/evidence/{id} shows: what the deposit recorded (`hash_given`: a new hash
        deposit carried client fingerprints), or for evidence that existed already, the
        stored status (one more read, off the event loop)."""
        if outcome.created:
            known = outcome.view.fingerprint
            if known is None and view.kind == "hash":
                known = designs.hash_status(hash_given)
            if known is not None:
                return dataclasses.replace(view, fingerprint=known)
        stored = await asyncio.to_thread(self.view, org, outcome.public_id)
        return dataclasses.replace(view, fingerprint=stored.fingerprint)

    def _signed(self, org: OrgView, requests: list[DepositRequest]) -> list[DepositRequest]:
        """`requests` with their depositor signatures checked (signer set)."""
        policy = self.depositor_keys.policy(org) if self.depositor_keys is not None else None
        return signing.check(policy, requests)

    def _depositor_keys(self) -> DepositorKeys:
        if self.depositor_keys is None:
            raise no_consortium()
        return self.depositor_keys

    def depositor_signing(self, org: OrgView) -> SigningInfo:
        """What `org` signs its deposits with: depositor identity, chain id, registry; its
        keys and whether it requires signatures."""
        return self._depositor_keys().info(org)

    def add_depositor_key(self, org: OrgView, address: str, proof: bytes) -> DepositorKeyView:
        """Register a depositor key of `org` (its consent `proof`), in the consortium."""
        return self._depositor_keys().add(org, address, proof)

    def remove_depositor_key(self, org: OrgView, address: str) -> DepositorKeyView:
        return self._depositor_keys().remove(org, address)

    def require_signatures(self, org: OrgView, required: bool) -> None:
        """Whether every deposit of `org` must be signed (in force within key_cache_seconds)."""
        self._depositor_keys().set_required(org, required)

    @property
    def fingerprint_bytes(self) -> int:
        """Largest upload whose bytes are kept in memory to be fingerprinted."""
        return MAX_FINGERPRINT_BYTES

    def deposit_hook(self, fingerprints: list[tuple[str, str]]) -> OnCreated | None:
        """The hook storing a hash deposit's client-computed fingerprints ((kind, hex)
        pairs); None without any. ValidationError for a malformed one."""
        return self.monitor.client_fingerprints(fingerprints)

    def designs_changed(self) -> None:
        """Bring the watch index up to date after deposits that carried fingerprints."""
        self.monitor.designs_changed()

    # -- reads -------------------------------------------------------------------------

    def search(self, org: OrgView, query: Query) -> Page:
        return search(self.factory, org, query)

    def certificate(
        self, org: OrgView, public_id: str, origin: Origin | None = None
    ) -> Certificate:
        """The current certificate; ConflictError until the evidence is anchored and final."""
        owner = self.access(org, public_id, "certificate", origin)
        return issued.certificate(self.factory, self.trees, owner, public_id)

    def certificates(
        self, org: OrgView, public_id: str, origin: Origin | None = None
    ) -> list[IssuedCertificate]:
        """Every certificate issued for the evidence, superseded ones first."""
        owner = self.access(org, public_id, "certificates", origin)
        return issued.certificates(self.factory, self.trees, owner, public_id)

    def content(self, org: OrgView, public_id: str, origin: Origin | None = None) -> Content:
        """The deposited file's bytes (spool or IPFS), checked against its hash as they go."""
        owner = self.access(org, public_id, "file", origin)
        return content(self.factory, owner, public_id, self.ipfs, self.spool_dir)

    def certificate_pdf(
        self, org: OrgView, public_id: str, origin: Origin | None = None
    ) -> tuple[bytes, str]:
        """The current certificate printed (notary.court.pdf), its QR code opening the web
        verifier at NOTARY_PUBLIC_URL for this evidence."""
        from notary.court.pdf import render as render_pdf  # fpdf2 + fontTools: ~1 s to import
        from notary.court.qr import verify_url

        owner = self.access(org, public_id, "pdf", origin)
        cert = issued.certificate(self.factory, self.trees, owner, public_id)
        link = verify_url(self.settings.public_url, cert.evidence.sha256, public_id)
        name = str(cert.evidence.metadata.get("name", public_id))
        return render_pdf(cert, link, public_id), name

    def bundle(
        self, org: OrgView, public_id: str, origin: Origin | None = None
    ) -> tuple[Path, Content]:
        """A court bundle (file, certificate JSON and PDF, CAR, specification, README,
        verify.html, and the access log as the caller may see it, up to this download)
        written to a temporary zip in the data directory, and the file it holds; the caller
        deletes the zip when sent."""
        if self.ipfs is None:
            raise ConflictError("bundles need an IPFS node (NOTARY_IPFS_API)")
        caller, org = org, self.access(org, public_id, "bundle", origin)
        file = content(self.factory, org, public_id, self.ipfs, self.spool_dir)
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix="bundle-", suffix=".zip", dir=self.settings.data_dir)
        os.close(handle)
        target = Path(name)
        try:
            write_bundle(
                target,
                self.factory,
                self.trees,
                org,
                public_id,
                self.ipfs,
                file,
                self.settings.public_url,
                share_log.bundle_extras(self.factory, caller, public_id),
            )
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return target, file

    def verify(self, certificate: bytes, file: BinaryIO | None = None) -> Verdict:
        """The verdict `notary verify` gives, read from this service's chain node."""
        return verify(certificate, self.rpc_url, file)

    # -- audit: what the chain says, never the database -------------------------------

    def anchors_by_sequence(self, first: int, count: int) -> list[OnChainAnchor]:
        return audit.by_sequence(self.registry, first, count)

    def anchors_by_time(self, start: int, end: int, count: int) -> list[OnChainAnchor]:
        """Anchors whose block time is in [start, end) (Unix seconds)."""
        return audit.by_time(self.registry, start, end, count)

    def anchor_of(self, root: bytes) -> OnChainAnchor:
        """The registry's record of `root`; NotFoundError when it is not anchored there."""
        record = self.registry.anchor_of(root)
        if record.sequence == 0:
            raise NotFoundError(f"root 0x{root.hex()} is not anchored in {self.registry.address}")
        return record

    # -- organizations and keys --------------------------------------------------------

    def caller(self, presented: str) -> OrgView | None:
        """The organization of a key checked recently (no database read), else None."""
        return self.keys.cached(presented)

    def authenticate(self, presented: str) -> OrgView:
        """The organization of an API key; AuthenticationError if unknown or revoked."""
        return self.keys.authenticate(presented)

    def admit(self, org: OrgView) -> None:
        """Count a request against the organization's rate limit; RateLimitedError over it."""
        if self.limiter is not None:
            self.limiter.take(org.id)

    def create_organization(self, slug: str, name: str, role: Role) -> OrgView:
        return orgs.create_organization(self.factory, slug, name, role)

    def organizations(self) -> list[OrgView]:
        return orgs.list_organizations(self.factory)

    def create_key(
        self,
        slug: str,
        label: str,
        expires_at: datetime | None = None,
        expires_in: float | None = None,
    ) -> NewKey:
        """A new API key for the organization, expiring at `expires_at` or `expires_in`
        seconds from now if given; its secret is in the result, only there."""
        return orgs.create_key(self.factory, slug, label, expiry(expires_at, expires_in))

    def keys_of(self, caller: OrgView, slug: str) -> list[KeyInfo]:
        """The organization's keys (no secrets): an admin sees any organization's, every
        other organization its own only (ForbiddenError)."""
        if caller.role is not Role.ADMIN and caller.slug != slug:
            raise ForbiddenError("an organization may list its own keys only")
        return orgs.list_keys(self.factory, slug)

    def rotate_key(
        self,
        prefix: str,
        grace: timedelta = DEFAULT_GRACE,
        label: str | None = None,
        expires_at: datetime | None = None,
        expires_in: float | None = None,
    ) -> NewKey:
        """A new key for the organization of key `prefix`; the old one keeps working for
        `grace` only (at once in this process, within NOTARY_KEY_CACHE_SECONDS elsewhere)."""
        new = orgs.rotate_key(self.factory, prefix, grace, label, expiry(expires_at, expires_in))
        self.keys.forget(prefix)
        return new

    def revoke_key(self, prefix: str) -> None:
        """Revoke a key; it stops working at once in this process (its cache entry goes)."""
        orgs.revoke_key(self.factory, prefix)
        self.keys.forget(prefix)

    # -- sharing evidence with other organizations (notary.share) --------------------

    def access(
        self, org: OrgView, public_id: str, action: str, origin: Origin | None = None
    ) -> OrgView:
        """The access check of every read of evidence by id: `org` owns it or holds an
        active share of it, else NotFoundError. Records the access when the evidence is
        shared, and returns the owner, whose organization scopes the read itself."""
        return share_access.access(self.factory, org, public_id, action, origin)

    def share(
        self,
        org: OrgView,
        public_id: str,
        grantee: str,
        case_ref: str,
        expires_at: datetime | None,
        origin: Origin | None = None,
    ) -> ShareView:
        """Share the caller's evidence with organization `grantee` for a case."""
        return share_store.create_share(
            self.factory, org, public_id, grantee, case_ref, expires_at, origin or Origin()
        )

    def shares(self, org: OrgView, public_id: str) -> list[ShareView]:
        """Every share of the caller's evidence, active or not, oldest first."""
        return share_store.shares_of(self.factory, org, public_id)

    def revoke_share(self, org: OrgView, share_id: str, origin: Origin | None = None) -> None:
        """Revoke a share of the caller's; NotFoundError for anyone else's."""
        share_store.revoke_share(self.factory, org, share_id, origin or Origin())

    def shared_with(
        self, org: OrgView, limit: int, cursor: str | None, origin: Origin | None = None
    ) -> SharedPage:
        """The active shares the caller holds, newest first (each listed item is logged)."""
        return share_store.shared_with(self.factory, org, limit, cursor, origin or Origin())

    def access_log(self, org: OrgView, public_id: str) -> list[AccessEntry]:
        """The evidence's access log as the caller (owner or active grantee) may see it."""
        return share_log.entries(self.factory, org, public_id)

    def public_certificate(
        self, public_id: str, sha256: str | None, remote: str | None
    ) -> Certificate:
        """The keyless lookup: the certificate if id and SHA-256 both match, the same
        NotFoundError otherwise; RateLimitedError over the client address's rate."""
        self.lookups.take(remote)
        return lookup(self.factory, self.trees, public_id, sha256, remote)

    # -- auditor's exports and the operator's reconciliation report ------------------

    def audited(self, anchors: list[OnChainAnchor]) -> list[AuditedAnchor]:
        """`anchors` with the transaction that anchored each (from the registry's events)."""
        return audit.with_transactions(self.registry, anchors)

    def reconciliation(self) -> ReconciliationReport:
        """The database's anchors against the registry's: missing, extra, mismatched
        (notary.anchoring.report). Reads both; changes nothing."""
        return reconciliation_report(self.factory, self.registry)

    # -- webhooks (notary.hooks) -------------------------------------------------------

    def create_webhook(
        self, org: OrgView, url: str, events: list[str] | None, description: str = ""
    ) -> NewWebhook:
        """Register an endpoint; its secret is in the result, only there."""
        return endpoints.register(self.factory, org, url, events, description)

    def webhooks(self, org: OrgView) -> list[WebhookView]:
        return endpoints.listing(self.factory, org)

    def delete_webhook(self, org: OrgView, webhook_id: str) -> None:
        """Stop sending to the endpoint; its undelivered messages are given up."""
        endpoints.delete(self.factory, org, webhook_id)

    def webhook_deliveries(
        self, org: OrgView, webhook_id: str, limit: int, status: str | None = None
    ) -> list[DeliveryView]:
        """The endpoint's newest messages, each with every attempt to deliver it."""
        return endpoints.deliveries(self.factory, org, webhook_id, limit, status)

    def test_webhook(self, org: OrgView, webhook_id: str) -> DeliveryView:
        """Queue a webhook.ping message to the endpoint."""
        return endpoints.ping(self.factory, org, webhook_id)

    def webhook_backlog(self) -> int:
        """Webhook messages not delivered yet and not given up."""
        with self.factory() as session:
            return backlog(session)

    # -- early warning (notary.monitor) ------------------------------------------------

    def watch_list(self, org: OrgView) -> WatchSettings:
        """Which of the organization's designs are watched (default: all, no disclosure)."""
        return self.monitor.watch_list(org)

    def set_watch_list(self, org: OrgView, settings: WatchSettings) -> WatchSettings:
        """Replace the watch list; the watch index follows at once."""
        return self.monitor.set_watch_list(org, settings)

    async def capture(
        self, org: OrgView, file: FileContent, declared: Metadata, data: bytes | None
    ) -> CaptureView:
        """Deposit a capture as the caller's evidence, match it against every watched
        design and record an alert for each match's owner, all in one transaction."""
        return await self.monitor.capture(org, Received(file, declared, data))

    def alerts(
        self,
        org: OrgView,
        status: str | None = None,
        design_id: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> AlertPage:
        """The caller's alerts, newest first."""
        return self.monitor.alerts(
            org, status=status, design_id=design_id, since=since, limit=limit, cursor=cursor
        )

    def alert(self, org: OrgView, alert_id: str) -> AlertView:
        """One of the caller's alerts; NotFoundError for anyone else's."""
        return self.monitor.alert(org, alert_id)

    def acknowledge_alert(self, org: OrgView, alert_id: str) -> AlertView:
        return self.monitor.set_alert_status(org, alert_id, "acknowledged")

    def dismiss_alert(self, org: OrgView, alert_id: str) -> AlertView:
        return self.monitor.set_alert_status(org, alert_id, "dismissed")

    def alert_thumbnail(self, org: OrgView, alert_id: str, side: str) -> bytes:
        """A small PNG of the alert's design or capture (the owner's way to see it)."""
        return self.monitor.thumbnail(org, alert_id, side)

    def alert_capture_certificate(self, org: OrgView, alert_id: str) -> Certificate:
        """The capture's certificate, to the owner of the alert only (ConflictError until
        the capture is anchored)."""
        parts = self.monitor.parts(org, alert_id)
        return issued.certificate(self.factory, self.trees, parts.finder, parts.capture_evidence_id)

    def alert_report(self, org: OrgView, alert_id: str) -> dict[str, Any]:
        """The match report (JSON): both certificates' times and what they prove."""
        return self.monitor.report(org, alert_id)

    def alert_report_pdf(self, org: OrgView, alert_id: str) -> bytes:
        """The match report as a PDF (the court kit's fonts; ConfigError without one)."""
        return self.monitor.report_pdf(org, alert_id)
