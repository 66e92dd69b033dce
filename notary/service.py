"""The running notary: store, deposit writer, key cache, anchoring parts, from Settings.

The HTTP app holds one NotaryService and calls its methods (deposit, view, certificate,
content, bundle, organizations and keys, readiness); the routes reach none of its parts
(tests/unit/test_layout.py checks it). Everything here is usable without HTTP (tests, CLI).
`start` runs the batcher and the pinner in the anchoring process (notary.anchoring.process).
Deposits are accepted while the chain is down; the batcher keeps retrying in the background.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from notary.anchoring.assembly import Anchoring
from notary.anchoring.process import AnchoringSupervisor
from notary.chain.artifact import published_code_hashes
from notary.chain.registry import OnChainAnchor
from notary.config import Settings
from notary.core.certificate import Certificate
from notary.core.leaf import Metadata
from notary.deposit.content import FileContent
from notary.deposit.files import deposit_received
from notary.deposit.ratelimit import RateLimiter
from notary.deposit.request import DepositOutcome, DepositRequest
from notary.deposit.writer import DepositWriter
from notary.errors import ChainError, ConflictError, NotFoundError
from notary.issue import certificates as issued
from notary.issue.certificates import IssuedCertificate
from notary.issue.retrieve import VERIFY_HTML, Content, content, write_bundle
from notary.issue.search import Page, Query, search
from notary.issue.trees import TreeCache
from notary.issue.views import EvidenceView, view, views
from notary.store import orgs
from notary.store.db import database_url, make_engine, make_sessionmaker
from notary.store.models import Role
from notary.store.orgs import KeyCache, NewKey, OrgView
from notary.verify import audit
from notary.verify.certificate import Verdict, verify

MAX_WAIT_SECONDS: Final = 60.0
"""Longest a request may block waiting for its deposit to be anchored."""
WAIT_POLL_SECONDS: Final = 0.1
"""How often a waiting request looks at the database again."""


def _court_extras() -> dict[str, bytes]:
    """verify.html, the web verifier, when this package has it (notary.court.verifier)."""
    try:
        from notary.court.verifier import verifier_html  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return {}
    html: bytes = verifier_html()
    return {VERIFY_HTML: html}


@dataclass(frozen=True)
class Readiness:
    database: bool
    chain: bool
    registry: bool
    detail: dict[str, str]

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
        self.deposits = DepositWriter(self.factory)
        self.keys = KeyCache(self.factory, settings.key_cache_seconds)
        self.limiter = (
            RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
            if settings.rate_limit_per_second > 0
            else None
        )
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
        self._anchoring: AnchoringSupervisor | None = None

    def start(self) -> None:
        """Start anchoring and pinning in the anchoring process (notary.anchoring.process)."""
        self._anchoring = AnchoringSupervisor(self.settings)
        self._anchoring.start()

    def stop(self) -> None:
        if self._anchoring is not None:
            self._anchoring.stop()
        self.deposits.stop()
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
            registry = self.registry.code_hash() in published_code_hashes()
            if not registry:
                detail["registry"] = f"no published registry at {self.registry.address}"
        except ChainError as exc:
            detail["chain"] = str(exc)
        if self._anchoring is not None:
            anchoring = self._anchoring
            detail["anchoring"] = (
                f"running (pid {anchoring.pid})" if anchoring.running else "restarting"
            )
        return Readiness(database, chain, registry, detail)

    async def wait_anchored(
        self, org: OrgView, public_ids: list[str], timeout: float
    ) -> list[EvidenceView]:
        """Views of `public_ids` once all are anchored, or when `timeout` passes (capped at
        MAX_WAIT_SECONDS), whichever comes first.

        A coroutine: a waiting request holds a worker thread only while it reads the
        database, not while it sleeps, so a hundred requests waiting for their anchor do
        not use up the 40 worker threads that every other request needs.
        """
        deadline = time.monotonic() + min(max(timeout, 0.0), MAX_WAIT_SECONDS)
        while True:
            current = await asyncio.to_thread(views, self.factory, org, public_ids)
            if all(v.status == "anchored" for v in current) or time.monotonic() >= deadline:
                return current
            await asyncio.sleep(WAIT_POLL_SECONDS)

    def view(self, org: OrgView, public_id: str) -> EvidenceView:
        return view(self.factory, org, public_id)

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
        """Record deposits through the group-commit writer; resume once they are committed."""
        return await self.deposits.deposit_async(org, requests)

    async def deposit_file(
        self,
        org: OrgView,
        file: FileContent,
        declared: Metadata,
        idempotency_key: str | None = None,
    ) -> DepositOutcome:
        """Record a received file (notary.deposit.files): its spool copy is kept only when
        this deposit created the evidence."""
        return await deposit_received(self.deposits, org, file, declared, idempotency_key)

    # -- reads -------------------------------------------------------------------------

    def search(self, org: OrgView, query: Query) -> Page:
        return search(self.factory, org, query)

    def certificate(self, org: OrgView, public_id: str) -> Certificate:
        """The current certificate; ConflictError until the evidence is anchored and final."""
        return issued.certificate(self.factory, self.trees, org, public_id)

    def certificates(self, org: OrgView, public_id: str) -> list[IssuedCertificate]:
        """Every certificate issued for the evidence, superseded ones first."""
        return issued.certificates(self.factory, self.trees, org, public_id)

    def content(self, org: OrgView, public_id: str) -> Content:
        """The deposited file's bytes (spool or IPFS), checked against its hash as they go."""
        return content(self.factory, org, public_id, self.ipfs, self.spool_dir)

    def certificate_pdf(self, org: OrgView, public_id: str) -> bytes:
        """The current certificate printed (notary.court.pdf), its QR code opening the web
        verifier at NOTARY_PUBLIC_URL for this evidence."""
        from notary.court.pdf import render as render_pdf  # fpdf2 + fontTools: ~1 s to import
        from notary.court.qr import verify_url

        cert = self.certificate(org, public_id)
        link = verify_url(self.settings.public_url, cert.evidence.sha256, public_id)
        return render_pdf(cert, link, public_id)

    def bundle(
        self, org: OrgView, public_id: str, extras: Mapping[str, bytes] | None = None
    ) -> tuple[Path, Content]:
        """A court bundle (file, certificate JSON and PDF, CAR, specification, README,
        verify.html, `extras`) written to a temporary zip in the data directory, and the
        file it holds; the caller deletes the zip when sent."""
        if self.ipfs is None:
            raise ConflictError("bundles need an IPFS node (NOTARY_IPFS_API)")
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
                {**_court_extras(), **(extras or {})},
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

    def create_key(self, slug: str, label: str) -> NewKey:
        """A new API key for the organization; its secret is in the result, only there."""
        return orgs.create_key(self.factory, slug, label)

    def revoke_key(self, prefix: str) -> None:
        """Revoke a key; it stops working at once in this process (its cache entry goes)."""
        orgs.revoke_key(self.factory, prefix)
        self.keys.forget(prefix)
