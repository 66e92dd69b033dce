"""Engine and sessions. SQLite gets WAL, synchronous=FULL, foreign keys and a busy timeout."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from notary.errors import StorageError
from notary.store import schema

QUERY_CHUNK = 500
"""Values per `IN (...)` lookup: far below every database's bound-parameter limit."""

SQLITE_POOL_SIZE = 40
"""Connections kept open: one per thread of the web server's worker pool (40 by default)."""

SQLITE_CACHE_KIB = 32 * 1024
"""Page cache per connection (SQLite's default is 2 MiB; it grows only as pages are read)."""
SQLITE_MMAP_BYTES = 1024**3
"""Reads through a shared memory map of the file: connections share the OS page cache."""
SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a writer waits for another (the batcher and the API share one file)."""


def database_url(data_dir: Path, given: str | None) -> str:
    """NOTARY_DATABASE_URL, else <data>/notary.sqlite3."""
    return given or f"sqlite:///{data_dir / 'notary.sqlite3'}"


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def make_engine(url: str, *, upgrade: bool = False) -> Engine:
    """Create the engine; create the schema in an empty database, and check that an
    existing one is at this code's revision (notary.store.schema; `upgrade` upgrades it)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        sqlite = url.startswith("sqlite")
        connect_args: dict[str, object] = {"check_same_thread": False} if sqlite else {}
        if url.startswith("postgresql+psycopg"):
            # timestamps are stored without a zone, in UTC whatever the server's own zone
            connect_args["options"] = "-c timezone=UTC"
        engine = create_engine(
            url,
            connect_args=connect_args,
            # SQLite connections are cheap to keep: keep one per worker thread instead of
            # opening (and re-running the pragmas) for each request beyond the default 5
            **({"pool_size": SQLITE_POOL_SIZE, "max_overflow": 10} if sqlite else {}),
        )
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        try:
            schema.prepare(engine, upgrade=upgrade)
        except BaseException:
            engine.dispose()
            raise
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot open the database: {type(exc).__name__}: {exc}") from exc
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on error, as StorageError."""
    session = factory()
    try:
        yield session
        session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        raise StorageError(f"database error: {type(exc).__name__}") from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def sqlite_driver(session: Session) -> sqlite3.Connection | None:
    """The sqlite3 connection under `session`'s transaction, or None on other databases.

    For the few statements of the deposit path, where SQLAlchemy's per-statement cost
    (about 50 to 100 us) is larger than SQLite's own work. Statements sent through it are
    part of the session's transaction.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return None
    driver = connection.connection.dbapi_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


ANCHORING_LOCK_KEY = 0x6E6F74617279  # "notary"
"""PostgreSQL advisory lock held by the active anchoring process (notary.anchoring.process)."""


@contextmanager
def anchoring_lock(engine: Engine) -> Iterator[Callable[[], bool]]:
    """A try-lock function for "the anchoring of this database", held until the block ends.

    PostgreSQL: a session advisory lock on a connection of its own (the server drops it if
    the process dies). SQLite: always granted; the file lives in one data directory, whose
    lock file serializes anchoring already.
    """
    if engine.dialect.name != "postgresql":
        yield lambda: True
        return
    connection = engine.connect()
    held = False
    key = {"key": ANCHORING_LOCK_KEY}

    def try_lock() -> bool:
        nonlocal held
        if not held:
            held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), key))
            connection.commit()  # end the implicit transaction; the session lock stays
        return held

    try:
        yield try_lock
    finally:
        if held:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
        connection.invalidate()  # really close it: the pool must not keep the session
