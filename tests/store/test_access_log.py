"""The access log is append-only in the database itself: an UPDATE or DELETE of an entry is
refused by a trigger, on a database created from the models and on one upgraded by the
migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from notary.share.access import now
from notary.store import schema
from notary.store.db import make_engine, make_sessionmaker
from notary.store.models import AccessLog, Evidence, Organization


def _one_entry(engine) -> int:
    factory = make_sessionmaker(engine)
    with factory.begin() as session:
        org = Organization(slug="studio", name="studio", role="depositor", created_at=now())
        session.add(org)
        session.flush()
        evidence = Evidence(
            public_id="ev_" + "1" * 24,
            organization_id=org.id,
            sha256=b"\x01" * 32,
            sm3=None,
            metadata_json={},
            depositor="studio",
            salt=b"\x02" * 32,
            leaf_hash=b"\x03" * 32,
            kind="hash",
            status="pending",
            received_at=now(),
        )
        session.add(evidence)
        session.flush()
        entry = AccessLog(
            evidence_id=evidence.id,
            organization_id=org.id,
            key_prefix="abc",
            action="view",
            at=now(),
            remote="127.0.0.1",
        )
        session.add(entry)
        session.flush()
        return entry.id


def _assert_append_only(engine) -> None:
    entry = _one_entry(engine)
    factory = make_sessionmaker(engine)
    for statement in (
        update(AccessLog).where(AccessLog.id == entry).values(remote="10.0.0.1"),
        delete(AccessLog).where(AccessLog.id == entry),
    ):
        with pytest.raises(DBAPIError, match="append-only"), factory.begin() as session:
            session.execute(statement)
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text("TRUNCATE access_log CASCADE"))
    with factory() as session:
        (row,) = session.scalars(select(AccessLog)).all()
        assert (row.id, row.remote) == (entry, "127.0.0.1")
        assert session.scalar(select(func.count()).select_from(AccessLog)) == 1


def test_created_from_the_models(database_url) -> None:
    engine = make_engine(database_url)
    _assert_append_only(engine)
    engine.dispose()


def test_created_by_the_migrations(database_url) -> None:
    args = {"options": "-c timezone=UTC"} if database_url.startswith("postgresql") else {}
    raw = create_engine(database_url, connect_args=args)
    with raw.begin() as connection:
        command.upgrade(schema._config(connection), "head")
    raw.dispose()
    engine = make_engine(database_url)
    _assert_append_only(engine)
    engine.dispose()
