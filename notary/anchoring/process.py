"""The anchoring process: the batcher and the pinner, beside the API process.

`notary serve` (NotaryService.start) runs them in a process of their own, so that forming a
10,000-leaf batch (rows, Merkle tree, manifest, status updates) and pinning never hold the
API's interpreter lock: bulk deposits ran at 21,600 hashes/s with them in the API process,
24,600 with them here (bench/deposits.py's bulk part, same machine).
Everything they share goes through the database, as before.

Safety:
- one anchoring process per data directory and per database: it holds an exclusive lock
  on <data>/anchoring.lock and, on PostgreSQL, a session advisory lock, for its whole
  life. Another one waits as a standby: several `notary serve` instances on one
  PostgreSQL database anchor through one of them at a time, and the next takes over when
  it goes (two batchers on one database could put a deposit in two batches);
- it dies with its parent: a `kill -9` of the service takes anchoring down within
  PARENT_POLL_SECONDS, exactly as a crash would (recovery at the next start finishes every
  batch; see notary.anchoring.batcher);
- the parent restarts it if it dies alone (AnchoringSupervisor), with a pause that grows
  while it keeps dying soon after each start and is back to its first value once the
  process has run HEALTHY_SECONDS (RestartDelay).
"""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any, Final

from notary.anchoring.crashpoints import PARENT_ENV
from notary.config import Settings

log = logging.getLogger("notary.anchoring.process")

PARENT_POLL_SECONDS: Final = 0.2
"""How often the anchoring process checks that its parent is still alive."""
STOP_TIMEOUT_SECONDS: Final = 30.0
"""How long a stop waits for a batch in flight before killing the process."""
FIRST_RESTART_SECONDS: Final = 1.0
"""Pause before the first restart of a process that died."""
MAX_RESTART_SECONDS: Final = 60.0
"""Longest pause between restarts of a process that keeps dying."""
HEALTHY_SECONDS: Final = 60.0
"""A process that ran this long before dying is restarted after the first pause again."""


class RestartDelay:
    """How long to wait before restarting a process that died.

    Doubles from FIRST_RESTART_SECONDS up to MAX_RESTART_SECONDS while the process keeps
    dying within HEALTHY_SECONDS of its start; after a healthy run it starts over, so a
    crash once a day is never met with an hour-old, maximal pause.
    """

    def __init__(
        self,
        first: float = FIRST_RESTART_SECONDS,
        limit: float = MAX_RESTART_SECONDS,
        healthy: float = HEALTHY_SECONDS,
    ) -> None:
        self.first, self.limit, self.healthy = first, limit, healthy
        self._next = first

    def after(self, ran_for: float) -> float:
        """The pause before the next start of a process that ran `ran_for` seconds."""
        if ran_for >= self.healthy:
            self._next = self.first
        pause = self._next
        self._next = min(pause * 2, self.limit)
        return pause


def main(settings_data: dict[str, Any], parent: int) -> None:
    """Entry point of the anchoring process (started with multiprocessing's spawn)."""
    from notary.anchoring.assembly import Anchoring  # the child imports what it needs
    from notary.ops import logs
    from notary.store.db import anchoring_lock

    os.environ[PARENT_ENV] = str(parent)
    settings = Settings(**settings_data)
    logs.configure(settings.log_format, settings.log_level)  # the API process's format
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    parts = Anchoring(settings)
    lock_path = settings.data_dir / "anchoring.lock"
    with lock_path.open("a") as lock_file, anchoring_lock(parts.engine) as database_lock:

        def locked() -> bool:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return database_lock()

        if _acquired(locked, stop, parent):
            threads = parts.start_loops(stop)
            log.info("anchoring process %s running for service %s", os.getpid(), parent)
            while not stop.wait(PARENT_POLL_SECONDS):
                if os.getppid() != parent:  # the service is gone: die as it did
                    os._exit(1)
            for thread in threads:
                thread.join(timeout=STOP_TIMEOUT_SECONDS)
    parts.close()


def _acquired(locked: Callable[[], bool], stop: threading.Event, parent: int) -> bool:
    """Try the locks until they are ours (True), or until the service is gone or asks us to
    stop (False). Meanwhile this process is a standby: another anchoring process holds
    them, an orphan of a killed service still ending or another service on the database."""
    while not locked():
        if os.getppid() != parent or stop.wait(PARENT_POLL_SECONDS):
            return False
    return True


class AnchoringSupervisor:
    """Starts the anchoring process, restarts it if it dies, stops it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")  # never fork a threaded server
        self._process: BaseProcess | None = None
        self._stop = threading.Event()
        self._watch: threading.Thread | None = None
        self._started_at = 0.0
        self.delay = RestartDelay()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        self._spawn()
        self._watch = threading.Thread(target=self._supervise, name="notary-anchoring", daemon=True)
        self._watch.start()

    def _spawn(self) -> None:
        process = self._context.Process(
            target=main,
            args=(self.settings.model_dump(), os.getpid()),
            name="notary-anchoring",
            daemon=True,
        )
        process.start()
        self._process = process
        self._started_at = time.monotonic()

    def _supervise(self) -> None:
        while not self._stop.wait(PARENT_POLL_SECONDS):
            if self._process is not None and not self._process.is_alive():
                pause = self.delay.after(time.monotonic() - self._started_at)
                log.warning(
                    "anchoring process %s ended (exit code %s); restarting in %.0f s",
                    self._process.pid,
                    self._process.exitcode,
                    pause,
                )
                if self._stop.wait(pause):
                    return
                self._spawn()

    def stop(self) -> None:
        """Ask the process to finish its cycle and exit; kill it if it takes too long."""
        self._stop.set()
        if self._watch is not None:
            self._watch.join(timeout=5)
        process = self._process
        if process is None or not process.is_alive():
            return
        process.terminate()  # SIGTERM: the loops end after their current cycle
        process.join(timeout=STOP_TIMEOUT_SECONDS)
        if process.is_alive():
            log.error("anchoring process %s did not stop; killing it", process.pid)
            process.kill()
            process.join(timeout=5)
