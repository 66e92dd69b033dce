"""The anchoring assembly: the parts that anchor and pin, built from Settings.

Built by the anchoring process (notary.anchoring.process), which runs its loops, and by
the service (notary.service), which reads through its registry writer and IPFS client.
Nothing here knows about deposits over HTTP, API keys or rate limits.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Final

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from notary.anchoring.batcher import Batcher, BatchPolicy
from notary.anchoring.loops import run_with_backoff
from notary.anchoring.pinner import Pinner
from notary.anchoring.proposals import Proposals
from notary.chain.consortium import ConsortiumWriter, connect_consortium_writer
from notary.chain.finality import Finality
from notary.chain.registry import RegistryWriter, connect_writer
from notary.config import Settings
from notary.deposit.spool import spool_dir
from notary.errors import ChainError, ConfigError, StorageError
from notary.hooks.delivery import Deliverer, RetryPolicy
from notary.ipfs.client import KuboRpc
from notary.ops.endpoints import (
    resolve_ipfs_api,
    resolve_registry,
    resolve_registry_kind,
    resolve_rpc_url,
)
from notary.ops.keys import load_key
from notary.store.db import database_url, make_engine, make_sessionmaker

log = logging.getLogger("notary.hooks.delivery")
batcher_log = logging.getLogger("notary.anchoring.batcher")

KEY_CHANGE_POLL_SECONDS: Final = 1.0
"""How often the anchoring process looks at depositor key changes (notary.anchoring.key_changes)."""


class Anchoring:
    """Engine, registry writer, batcher, and (when an IPFS node is configured) pinner."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.engine = engine or make_engine(database_url(settings.data_dir, settings.database_url))
        self.factory: sessionmaker[Session] = make_sessionmaker(self.engine)
        self.rpc_url = resolve_rpc_url(settings)
        account = load_key(settings.notary_key_path, settings)
        registry = resolve_registry(settings)
        consortium = resolve_registry_kind(settings, self.rpc_url, registry) == "consortium"
        self.writer: RegistryWriter | ConsortiumWriter = (
            connect_consortium_writer(self.rpc_url, registry, account)
            if consortium
            else connect_writer(self.rpc_url, registry, account)
        )
        policy = BatchPolicy(settings.batch_max_leaves, settings.batch_interval_seconds)
        finality = Finality(self.writer.reader(), settings.finality, settings.confirmations)
        self.batcher = Batcher(
            self.factory, self.writer, policy, finality, settings.consortium_proposal_seconds
        )
        retries = RetryPolicy(
            settings.webhook_retry_base_seconds,
            settings.webhook_retry_max_seconds,
            settings.webhook_give_up_seconds,
        )
        self.deliverer = Deliverer(
            self.factory, settings.public_url, retries, settings.webhook_timeout_seconds
        )
        self.spool_dir: Path = spool_dir(settings.data_dir)
        self.ipfs: KuboRpc | None = None
        self.pinner: Pinner | None = None
        try:
            api = resolve_ipfs_api(settings)
        except ConfigError:
            api = None  # no IPFS node configured: files are hashed, not kept
        if api is not None:
            self.ipfs = KuboRpc(api, settings.ipfs_token)
            self.pinner = Pinner(self.factory, self.ipfs, self.spool_dir)
        elif consortium:
            raise ConfigError(
                "consortium mode needs an IPFS node (NOTARY_IPFS_API or the devnet's): the "
                "endorsers fetch each batch manifest from it"
            )

    def start_loops(self, stop: threading.Event) -> list[threading.Thread]:
        """Run the batcher (recovery first, inside its loop), the webhook deliverer and the
        pinner as threads of this process until `stop` is set: what the anchoring process
        does."""
        loops = [
            ("notary-batcher", self._anchor),
            ("notary-webhooks", self._deliver),
        ]
        if self.pinner is not None:
            loops.append(("notary-pinner", self.pinner.run_forever))
        threads = []
        for name, loop in loops:
            thread = threading.Thread(target=loop, args=(stop,), name=name, daemon=True)
            thread.start()
            threads.append(thread)
        return threads

    def _anchor(self, stop: threading.Event) -> None:
        """The batcher's loop, and after each of its cycles the depositor key changes' (in
        consortium mode): both send from the notary account, so one thread keeps its
        transaction nonces in order."""
        writer = self.writer
        if not isinstance(writer, ConsortiumWriter):
            self.batcher.run_forever(stop)
            return
        key_changes = Proposals(self.factory, writer.reader()).key_changes
        last = -KEY_CHANGE_POLL_SECONDS

        def cycle() -> None:
            nonlocal last
            self.batcher.run_once()
            if time.monotonic() - last >= KEY_CHANGE_POLL_SECONDS:  # a refused change stays
                last = time.monotonic()  # open: its chain reads not every 0.2 s
                key_changes.cycle(writer)

        run_with_backoff(cycle, stop, 0.2, ChainError, batcher_log, "anchoring")

    def _deliver(self, stop: threading.Event) -> None:
        """The webhook deliverer's loop: a storage error pauses it, nothing but `stop` ends
        it; its HTTP client and workers are closed after."""
        # httpx logs every request at INFO: a line per message (10,000 for a full batch)
        # would bury this process's log; the deliverer logs failures itself
        logging.getLogger("httpx").setLevel(logging.WARNING)
        run_with_backoff(self.deliverer.cycle, stop, 0.5, StorageError, log, "webhook delivery")
        self.deliverer.close()

    def close(self) -> None:
        if self.ipfs is not None:
            self.ipfs.close()
        self.engine.dispose()
