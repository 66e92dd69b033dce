"""Schema migrations (Alembic) on SQLite and PostgreSQL: the revisions build exactly the
models' schema, and a database created by main before migrations existed, with data in it,
is refused until upgraded, then upgraded without losing anything."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.orm import Session

from notary.errors import SchemaVersionError
from notary.store import schema
from notary.store.db import make_engine
from notary.store.models import Base, Batch, Evidence, EvidenceTag, Organization
from tests.store import legacy_models_2026_11_21 as legacy

NOTARY = str(Path(sys.executable).parent / "notary")


def _raw_engine(url: str):
    connect_args = {"options": "-c timezone=UTC"} if url.startswith("postgresql") else {}
    return create_engine(url, connect_args=connect_args)


def test_revisions_build_exactly_the_models(database_url) -> None:
    engine = _raw_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(schema._config(connection), "head")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == []
        assert MigrationContext.configure(connection).get_current_revision() == schema.head()
    engine.dispose()


def test_a_new_database_is_created_at_the_newest_revision(database_url) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert schema.current(connection) == schema.head()
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == []
    engine.dispose()


def _legacy_database(url: str) -> dict[str, object]:
    """A database as main created it on 2026-11-21, with an anchored batch in it."""
    engine = _raw_engine(url)
    legacy.Base.metadata.create_all(engine)
    if engine.dialect.name == "sqlite":  # main before that day also had this unique index
        with engine.begin() as connection:
            connection.execute(
                text("CREATE UNIQUE INDEX ix_evidence_leaf_hash ON evidence (leaf_hash)")
            )
    now = datetime(2026, 11, 20, 8, 0, 0)
    with Session(engine) as session:
        org = legacy.Organization(slug="studio", name="杭州童装", role="depositor", created_at=now)
        session.add(org)
        session.flush()
        session.add(
            legacy.ApiKey(
                organization_id=org.id,
                prefix="nk_abcdef12",
                secret_sha256=b"\x01" * 32,
                label="ci",
                created_at=now,
            )
        )
        batch = legacy.Batch(
            root=b"\x02" * 32,
            leaf_count=1,
            status="anchored",
            created_at=now,
            tx_hash=b"\x03" * 32,
            chain_id=31337,
            registry_address="0x" + "ab" * 20,
            registry_code_hash=b"\x04" * 32,
            sequence=7,
            notary="0x" + "cd" * 20,
            manifest="bafkrei-manifest",
            block_number=42,
            block_hash=b"\x05" * 32,
            block_time=1_795_000_000,
            anchored_at=now,
        )
        session.add(batch)
        session.flush()
        evidence = legacy.Evidence(
            public_id="ev_legacy",
            organization_id=org.id,
            sha256=b"\x06" * 32,
            sm3=None,
            metadata_json={"name": "小熊连衣裙.png", "size": 12},
            depositor="studio",
            salt=b"\x07" * 32,
            leaf_hash=b"\x08" * 32,
            kind="hash",
            status="anchored",
            batch_id=batch.id,
            received_at=now,
        )
        session.add(evidence)
        session.flush()
        session.add(legacy.EvidenceTag(evidence_id=evidence.id, tag="spring"))
        session.add(
            legacy.BatchEvent(batch_id=batch.id, at=now, kind="anchored", detail="block 42")
        )
        session.commit()
    engine.dispose()
    return {"public_id": "ev_legacy", "root": b"\x02" * 32}


def test_a_database_from_before_migrations_is_refused_then_upgraded(database_url) -> None:
    facts = _legacy_database(database_url)
    with pytest.raises(SchemaVersionError, match="notary admin migrate"):
        make_engine(database_url)
    engine = make_engine(database_url, upgrade=True)
    with engine.connect() as connection:
        assert schema.current(connection) == schema.head()
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == []
        assert "ix_evidence_leaf_hash" not in {
            i["name"] for i in inspect(connection).get_indexes("evidence")
        }
    with Session(engine) as session:
        evidence = session.scalar(select(Evidence).where(Evidence.public_id == facts["public_id"]))
        assert evidence is not None
        assert evidence.metadata_json == {"name": "小熊连衣裙.png", "size": 12}
        assert evidence.status == "anchored" and evidence.salt == b"\x07" * 32
        batch = session.get(Batch, evidence.batch_id)
        assert batch is not None and batch.root == facts["root"]
        assert (batch.sequence, batch.block_number, batch.block_hash) == (7, 42, b"\x05" * 32)
        assert session.scalar(select(func.count()).select_from(EvidenceTag)) == 1
        assert session.scalar(select(Organization.name)) == "杭州童装"
        received = evidence.received_at.replace(tzinfo=UTC)
        assert received == datetime(2026, 11, 20, 8, 0, 0, tzinfo=UTC)
    engine.dispose()
    make_engine(database_url).dispose()  # now accepted as it is


def test_a_database_from_a_newer_release_is_refused(database_url) -> None:
    make_engine(database_url).dispose()
    engine = _raw_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="newer"):
        make_engine(database_url, upgrade=True)


def test_serve_refuses_and_admin_migrate_upgrades(tmp_path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'notary.sqlite3'}"
    _legacy_database(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTARY_")}
    env.update(NOTARY_DATA_DIR=str(data), NOTARY_RPC_URL="http://127.0.0.1:9")
    served = subprocess.run(
        [NOTARY, "serve", "--port", "9"], env=env, capture_output=True, text=True, timeout=60
    )
    assert served.returncode != 0
    assert "notary admin migrate" in served.stderr
    assert "Traceback" not in served.stderr
    listed = subprocess.run(
        [NOTARY, "admin", "list-orgs"], env=env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode != 0 and "notary admin migrate" in listed.stderr
    migrated = subprocess.run(
        [NOTARY, "admin", "migrate"], env=env, capture_output=True, text=True, timeout=60
    )
    assert migrated.returncode == 0, migrated.stderr
    assert f"0001 -> {schema.head()}" in migrated.stdout
    again = subprocess.run(
        [NOTARY, "admin", "migrate"], env=env, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0 and "already at" in again.stdout
    listed = subprocess.run(
        [NOTARY, "admin", "list-orgs"], env=env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0 and "studio" in listed.stdout


def test_a_creation_cut_short_before_the_revision_was_recorded(database_url) -> None:
    """Tables created, the process died before `alembic_version` was written: the tables
    are the models', so the database is at the newest revision (not 0001, whose upgrade
    would fail on tables that exist)."""
    engine = _raw_engine(database_url)
    Base.metadata.create_all(engine)  # and nothing else: the stamp never happened
    engine.dispose()
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == schema.head()
    engine.dispose()
