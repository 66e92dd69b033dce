"""Group commit: one thread writes every deposit of the process.

Requests hand their checked deposits to the writer and wait for its answer. Whatever
arrived while the previous transaction was committing goes into the next one (about ten
deposits a commit, measured with 16 clients), and threads no longer queue on SQLite's
write lock, whose busy handler sleeps for milliseconds at a time.

Nothing changes for the caller: its answer comes only after the transaction holding its
rows has committed. A request that fails (an Idempotency-Key reused for other content)
fails alone, having written nothing; so does one whose SM3 contradicts the recorded one,
even when it was merged with other requests. If the shared transaction itself fails (another
process inserted the same content first), each request of the group is redone in a
transaction of its own, exactly as if it had come alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.orm import Session, sessionmaker

from notary.deposit.request import (
    MAX_BULK_ITEMS,
    Checked,
    DepositOutcome,
    DepositRequest,
    check_all,
    record,
    record_checked,
)
from notary.errors import ConflictError, StorageError
from notary.store.db import transaction
from notary.store.orgs import OrgView

log = logging.getLogger("notary.deposit.writer")

MAX_GROUP_ROWS: Final = MAX_BULK_ITEMS
"""Most deposits in one group transaction (a lone bulk request may reach it by itself)."""


Answer = list[DepositOutcome] | BaseException


@dataclass
class _Job:
    org: OrgView
    checked: Checked
    result: Future[list[DepositOutcome]] = field(default_factory=Future)
    """Where a thread waits for the answer (submit)."""
    waiter: asyncio.Future[list[DepositOutcome]] | None = None
    """Where a coroutine waits for it instead (deposit_async)."""
    answered: bool = False


def _settle(answers: list[tuple[asyncio.Future[list[DepositOutcome]], Answer]]) -> None:
    """On the event loop: hand a group's answers to their coroutines."""
    for waiter, answer in answers:
        if waiter.done():  # cancelled: the client went away (the deposit itself stands)
            continue
        if isinstance(answer, BaseException):
            waiter.set_exception(answer)
        else:
            waiter.set_result(answer)


class DepositWriter:
    """Serializes deposits through one thread and commits them in groups."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._waking: dict[asyncio.AbstractEventLoop, list[tuple[Any, Answer]]] = {}
        self.groups = 0
        """Transactions committed so far (for tests and benchmarks)."""

    def submit(self, org: OrgView, requests: list[DepositRequest]) -> Future[list[DepositOutcome]]:
        """Validate now (ValidationError at once), record in the writer's next group."""
        job = _Job(org, check_all(requests))
        self._enqueue(job)
        return job.result

    async def deposit_async(
        self, org: OrgView, requests: list[DepositRequest]
    ) -> list[DepositOutcome]:
        """As `deposit`, for coroutines: the event loop is woken once per group, not once
        per request (each wake-up is a write to the loop's self-pipe and a callback)."""
        waiter: asyncio.Future[list[DepositOutcome]] = asyncio.get_running_loop().create_future()
        self._enqueue(_Job(org, check_all(requests), waiter=waiter))
        return await waiter

    def deposit(self, org: OrgView, requests: list[DepositRequest]) -> list[DepositOutcome]:
        """Submit and wait: the outcomes once they are committed."""
        return self.submit(org, requests).result()

    def _enqueue(self, job: _Job) -> None:
        with self._lock:
            if self._closed:
                raise StorageError("the deposit writer is stopped")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="notary-writer", daemon=True)
                self._thread.start()
            self._queue.put(job)

    def stop(self) -> None:
        """Finish what was submitted, then end the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._queue.put(None)
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            group, rows, stop = [job], len(job.checked), False
            while rows < MAX_GROUP_ROWS:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                group.append(more)
                rows += len(more.checked)
            try:
                self._write(group)
            except Exception as exc:  # a bug, not bad input: fail the group, keep serving
                log.exception("deposit writer failed")
                for waiting in group:
                    if not waiting.answered:
                        self._answer(waiting, exc)
            self._wake()
            if stop:
                return

    def _answer(self, job: _Job, answer: Answer) -> None:
        job.answered = True
        if job.waiter is None:
            if isinstance(answer, BaseException):
                job.result.set_exception(answer)
            else:
                job.result.set_result(answer)
        else:
            self._waking.setdefault(job.waiter.get_loop(), []).append((job.waiter, answer))

    def _wake(self) -> None:
        """One call into each waiting event loop for the whole group."""
        waking, self._waking = self._waking, {}
        for loop, answers in waking.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_settle, answers)

    def _write(self, group: list[_Job]) -> None:
        if len(group) == 1:
            self._alone(group[0])
            return
        answers: list[tuple[_Job, list[DepositOutcome] | ConflictError]] = []
        try:
            with transaction(self.factory) as session:
                for jobs in _mergeable(group):
                    if len(jobs) > 1:  # one lookup and one INSERT for all of them
                        merged = [item for job in jobs for item in job.checked]
                        try:
                            outcomes = iter(record(session, jobs[0].org, merged))
                        except ConflictError:  # raised before it wrote anything: find whose
                            answers.extend(_one_by_one(session, jobs))
                            continue
                        answers.extend((job, [next(outcomes) for _ in job.checked]) for job in jobs)
                        continue
                    answers.extend(_one_by_one(session, jobs))
        except StorageError as exc:
            log.info("group of %d deposits failed (%s); redoing each alone", len(group), exc)
            for job in group:
                self._alone(job)
            return
        self.groups += 1
        for job, answer in answers:
            self._answer(job, answer)

    def _alone(self, job: _Job) -> None:
        try:
            outcomes = record_checked(self.factory, job.org, job.checked)
        except Exception as exc:  # the caller gets it, as if it had called directly
            self._answer(job, exc)
            return
        self.groups += 1
        self._answer(job, outcomes)


def _one_by_one(
    session: Session, jobs: list[_Job]
) -> list[tuple[_Job, list[DepositOutcome] | ConflictError]]:
    """Record each job in turn in `session`; a job that conflicts (an Idempotency-Key
    reused, an SM3 that contradicts the recorded one) fails alone, having written nothing."""
    answers: list[tuple[_Job, list[DepositOutcome] | ConflictError]] = []
    for job in jobs:
        try:
            answers.append((job, record(session, job.org, job.checked)))
        except ConflictError as exc:
            answers.append((job, exc))
    return answers


def _mergeable(group: list[_Job]) -> list[list[_Job]]:
    """The group in runs that can be recorded as one: same organization, no Idempotency-Key
    (a reused key fails its own request only, so such requests are recorded one by one).

    Recording a run as one gives each request the outcomes it would get had the run's
    requests come one after the other (content recorded earlier in the run counts as
    existing). Every request of a group was waiting when the group began, so no order among
    them was promised: recording keyed requests after the run is as valid an order as any.
    """
    runs: list[list[_Job]] = []
    by_org: dict[int, list[_Job]] = {}
    for job in group:
        if any(request.idempotency_key is not None for request, _ in job.checked):
            runs.append([job])
        elif job.org.id in by_org:
            by_org[job.org.id].append(job)
        else:
            by_org[job.org.id] = [job]
            runs.append(by_org[job.org.id])
    return runs
