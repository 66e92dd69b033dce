"""The running notary: store, deposit writer, key cache, anchoring parts, from Settings.

The HTTP app holds one NotaryService; everything here is usable without HTTP (tests, CLI).
`start` runs the batcher and the pinner in the anchoring process (notary.anchoring.process).
Deposits are accepted while the chain is down; the batcher keeps retrying in the background.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Final

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from notary.anchoring.assembly import Anchoring
from notary.anchoring.process import AnchoringSupervisor
from notary.chain.artifact import published_code_hashes
from notary.config import Settings
from notary.deposit.ratelimit import RateLimiter
from notary.deposit.writer import DepositWriter
from notary.errors import ChainError
from notary.issue.certificates import TreeCache, view, views
from notary.issue.views import EvidenceView
from notary.store.db import database_url, make_engine, make_sessionmaker
from notary.store.orgs import KeyCache, OrgView

MAX_WAIT_SECONDS: Final = 60.0
"""Longest a request may block waiting for its deposit to be anchored."""
WAIT_POLL_SECONDS: Final = 0.1
"""How often a waiting request looks at the database again."""


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
        self.writer = self.parts.writer
        self.reader = self.writer.reader()
        """Reads of the registry (audit routes, readiness): no key, nothing is sent."""
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
            detail["chain_id"] = str(self.reader.chain_id())
            chain = True
            registry = self.reader.code_hash() in published_code_hashes()
            if not registry:
                detail["registry"] = f"no published registry at {self.reader.address}"
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
