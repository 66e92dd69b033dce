"""Fingerprinting in worker processes, so that images are decoded on every core.

Decoding and hashing an image is CPU work that holds the GIL much of the time: in the API
process it ran on one core at most and slowed every other request. A small pool of
worker processes (one per core, started on first use with `spawn`, so nothing of the API
process's threads or sockets is inherited) does it instead. A worker that dies on an input
(a decoder crashing on a hostile file) takes only that input with it: the pool is made
again and the input gets status corrupt.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Final, TypeVar

from notary.monitor.fingerprint import Fingerprinted, ImageStatus

T = TypeVar("T")

WORKERS: Final = max(1, min(4, os.cpu_count() or 1))
"""Worker processes (one per core, at most 4)."""


class Fingerprinter:
    def __init__(self, workers: int = WORKERS) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    def _get(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the fingerprinter is stopped")
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_ignore_ctrl_c,
                )
            return self._pool

    def _broken(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    async def run(self, compute: Callable[[bytes], Fingerprinted], data: bytes) -> Fingerprinted:
        """`compute(data)` (fingerprint_design or fingerprint_capture) in a worker."""
        pool = self._get()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, compute, data)
        except BrokenProcessPool:
            self._broken(pool)
            return Fingerprinted(ImageStatus.CORRUPT, "the image decoder failed on this file", ())

    async def call(self, func: Callable[..., T], *args: object) -> T:
        """`func(*args)` in a worker (CPU work on data already checked: a worker that dies
        here is a bug, and its BrokenProcessPool is raised after the pool is made again)."""
        pool = self._get()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, func, *args)
        except BrokenProcessPool:
            self._broken(pool)
            raise

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _ignore_ctrl_c() -> None:
    """In each worker: Ctrl-C in the terminal reaches the whole process group, and a worker
    would print a KeyboardInterrupt traceback; the service stops its workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
