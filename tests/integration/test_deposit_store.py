"""Recording deposits in a real SQLite file: the driver-level INSERT, and the group commit."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from notary.deposit import writer as writer_module
from notary.deposit.request import DepositRequest, deposit, insert_evidence
from notary.deposit.writer import DepositWriter
from notary.errors import ConflictError, StorageError, ValidationError
from notary.store.db import make_engine, transaction
from notary.store.models import Evidence, EvidenceTag, Role
from notary.store.orgs import create_organization


@pytest.fixture
def org(store):
    return create_organization(store, "studio", "Studio", Role.DEPOSITOR)


def sha(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def request(text: str, key: str | None = None, **metadata) -> DepositRequest:
    return DepositRequest(sha(text), None, metadata, "hash", idempotency_key=key)


COLUMNS = [c.key for c in Evidence.__table__.columns if c.key not in ("id", "public_id")]


def stored(store, public_id: str) -> dict[str, object]:
    with transaction(store) as session:
        row = session.scalar(select(Evidence).where(Evidence.public_id == public_id))
        assert row is not None
        return {c: getattr(row, c) for c in COLUMNS}


def test_driver_insert_stores_what_the_core_insert_stores(store, org):
    at = datetime(2026, 11, 21, 9, 30, 15, 123456, tzinfo=UTC)
    metadata = {"name": "童装-夏季.png", "tags": ["儿童", "summer"], "size": 2**53 - 1}

    def row(public_id: str, content: str) -> dict[str, object]:
        return {
            "public_id": public_id,
            "organization_id": org.id,
            "sha256": sha(content),
            "sm3": sha("sm3 " + content),
            "metadata_json": metadata,
            "depositor": "org:studio",
            "salt": sha("salt"),
            "leaf_hash": sha("leaf " + content),
            "idempotency_key": "key-" + content,
            "kind": "file",
            "status": "pending",
            "received_at": at,
            "cid": "bafkreiexample",
            "spool": "spool-name",
            "pin_state": "pending",
            "depositor_signature": b"\x1b" * 65,
        }

    with transaction(store) as session:
        insert_evidence(session, [row("ev_fast", "a")], fast=True)
        insert_evidence(session, [row("ev_core", "a2")], fast=False)
    fast, core = stored(store, "ev_fast"), stored(store, "ev_core")
    for differing in ("sha256", "sm3", "leaf_hash", "idempotency_key"):
        assert fast.pop(differing) != core.pop(differing)
    assert fast == core
    assert fast["metadata_json"] == metadata
    assert fast["received_at"].replace(tzinfo=UTC) == at


def test_deposit_through_the_driver_path_reads_back(store, org):
    outcomes = deposit(store, org, [request("one", title="夏季 T 恤", tags=["b", "a"])])
    assert outcomes[0].created
    row = stored(store, outcomes[0].public_id)
    assert row["metadata_json"] == {"title": "夏季 T 恤", "tags": ["b", "a"]}
    assert row["pin_attempts"] == 0
    assert row["pin_error"] == ""
    with transaction(store) as session:
        tags = session.scalars(select(EvidenceTag.tag).order_by(EvidenceTag.tag)).all()
    assert tags == ["a", "b"]


def hold_first_group(writer: DepositWriter, org) -> tuple[Future, threading.Event]:
    """Deposit a blocker and keep the writer busy with it until the returned event is set:
    whatever is submitted meanwhile queues up and is then written as one group."""
    gate, inside = threading.Event(), threading.Event()
    original = writer._write

    def write(group):
        if not inside.is_set():
            inside.set()
            assert gate.wait(10)
        original(group)

    writer._write = write  # type: ignore[method-assign]
    blocker = writer.submit(org, [request("blocker")])
    assert inside.wait(10)
    return blocker, gate


def test_concurrent_deposits_share_transactions(store, org):
    writer = DepositWriter(store)
    blocker, gate = hold_first_group(writer, org)
    futures = [writer.submit(org, [request(f"c{i}")]) for i in range(20)]
    gate.set()
    outcomes = [f.result(timeout=30)[0] for f in [blocker, *futures]]
    writer.stop()
    assert all(o.created for o in outcomes)
    assert len({o.public_id for o in outcomes}) == 21
    assert writer.groups == 2  # the blocker, then the 20 that queued behind it
    with transaction(store) as session:
        assert len(session.scalars(select(Evidence.id)).all()) == 21


def test_a_group_gives_each_request_its_own_answer(store, org):
    assert deposit(store, org, [request("keyed", key="k1")])[0].created
    writer = DepositWriter(store)
    blocker, gate = hold_first_group(writer, org)
    reused = writer.submit(org, [request("other content", key="k1")])  # a 409, alone
    same_twice = [writer.submit(org, [request("dup")]) for _ in range(2)]
    new = writer.submit(org, [request("new")])
    gate.set()
    assert blocker.result(timeout=30)[0].created
    with pytest.raises(ConflictError):
        reused.result(timeout=30)
    a, b = (f.result(timeout=30)[0] for f in same_twice)
    assert a.public_id == b.public_id
    assert [a.created, b.created] == [True, False]
    assert new.result(timeout=30)[0].created
    writer.stop()
    assert writer.groups == 2
    with transaction(store) as session:
        shas = set(session.scalars(select(Evidence.sha256)).all())
    assert shas == {sha("keyed"), sha("blocker"), sha("dup"), sha("new")}


def test_bad_input_is_refused_before_queueing(store, org):
    writer = DepositWriter(store)
    with pytest.raises(ValidationError):
        writer.submit(org, [])
    with pytest.raises(ValidationError):
        writer.submit(org, [DepositRequest(b"short", None, {}, "hash")])
    assert writer._thread is None  # nothing was started for them
    writer.stop()


def test_a_failed_group_is_redone_request_by_request(store, org, monkeypatch):
    """Fault injection: the shared transaction fails once (as when another process inserted
    the same content first); every request is then recorded alone and still answered."""
    writer = DepositWriter(store)
    blocker, gate = hold_first_group(writer, org)
    real_record = writer_module.record
    failures = []

    def record_failing_once(session, org_, checked):
        if not failures:
            failures.append(len(checked))
            raise StorageError("injected")
        return real_record(session, org_, checked)

    monkeypatch.setattr(writer_module, "record", record_failing_once)
    futures = [writer.submit(org, [request(f"r{i}")]) for i in range(5)]
    gate.set()
    outcomes = [f.result(timeout=30)[0] for f in [blocker, *futures]]
    writer.stop()
    assert failures == [5]  # the five queued requests were tried as one group first
    assert all(o.created for o in outcomes)
    with transaction(store) as session:
        assert len(session.scalars(select(Evidence.id)).all()) == 6


def test_a_stopped_writer_refuses(store, org):
    writer = DepositWriter(store)
    assert writer.deposit(org, [request("before")])[0].created
    writer.stop()
    with pytest.raises(StorageError):
        writer.submit(org, [request("after")])


def test_key_cache_answers_from_memory_and_forgets(store, org):
    from notary.store.orgs import KeyCache, create_key, revoke_key

    key = create_key(store, "studio")
    cache = KeyCache(store, ttl=60)
    assert cache.cached(key.secret) is None
    assert cache.authenticate(key.secret) == org
    revoke_key(store, key.prefix)
    assert cache.cached(key.secret) == org  # trusted for ttl without a database read
    cache.forget(key.prefix)
    assert cache.cached(key.secret) is None
    uncached = KeyCache(store, ttl=0)
    other = create_key(store, "studio")
    assert uncached.authenticate(other.secret) == org
    assert uncached.cached(other.secret) is None


def test_coroutines_get_their_answers_with_one_wake_up_per_group(store, org):
    import asyncio

    writer = DepositWriter(store)
    assert deposit(store, org, [request("async-keyed", key="ak")])[0].created

    async def main():
        loop = asyncio.get_running_loop()
        wakeups = []
        original = loop.call_soon_threadsafe

        def counting(callback, *args):
            wakeups.append(callback)
            return original(callback, *args)

        loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
        blocker, gate = hold_first_group(writer, org)
        tasks = [
            asyncio.ensure_future(writer.deposit_async(org, [request(f"a{i}")])) for i in range(10)
        ]
        clash = asyncio.ensure_future(writer.deposit_async(org, [request("other", key="ak")]))
        abandoned = asyncio.ensure_future(writer.deposit_async(org, [request("abandoned")]))
        await asyncio.sleep(0.05)  # all queued behind the blocker
        abandoned.cancel()  # the client went away: its deposit still counts
        gate.set()
        outcomes = [(await t)[0] for t in tasks]
        with pytest.raises(ConflictError):
            await clash
        assert blocker.result(timeout=10)[0].created
        return outcomes, wakeups

    outcomes, wakeups = asyncio.run(main())
    writer.stop()
    assert all(o.created for o in outcomes) and len({o.public_id for o in outcomes}) == 10
    assert len(wakeups) == 1  # one group, one wake-up for its twelve coroutines
    with transaction(store) as session:
        assert session.scalar(select(Evidence.id).where(Evidence.sha256 == sha("abandoned")))


def test_one_anchoring_lock_per_database(database_url):
    from notary.store.db import anchoring_lock

    first, second = make_engine(database_url), make_engine(database_url)
    try:
        with anchoring_lock(first) as mine:
            assert mine()
            with anchoring_lock(second) as theirs:
                # PostgreSQL: the second waits as a standby; SQLite: the data directory's
                # lock file is what serializes (tested end to end in tests/e2e)
                assert theirs() is (first.dialect.name == "sqlite")
        with anchoring_lock(second) as theirs:
            assert theirs()  # released when the first one's block ended
    finally:
        first.dispose()
        second.dispose()
