"""Fixtures: real files stamped on the session devnet; stores on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from notary.issue.stamp import StampResult, stamp
from notary.store.db import make_engine, make_sessionmaker


@dataclass
class Stamped:
    files: list[Path]
    certificates: list[Path]
    result: StampResult


def make_files(folder: Path, count: int, prefix: str = "童装设计") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(count):
        path = folder / f"{prefix}-{i:03d}.png"
        path.write_bytes(f"design {i} of {prefix}\n".encode() * (i + 1))
        files.append(path)
    return files


@pytest.fixture(scope="module")
def stamped(chain, tmp_path_factory) -> Stamped:
    files = make_files(tmp_path_factory.mktemp("designs"), 5)
    result = stamp(chain.settings, files, depositor="studio-42")
    return Stamped(files, list(result.certificates), result)


@pytest.fixture
def store(database_url):
    """Sessions on a fresh database: each test using it runs on SQLite and on PostgreSQL."""
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()
