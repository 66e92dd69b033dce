"""The database schema's version, kept by Alembic migrations (notary/store/migrations).

- An empty database is created from the models and stamped with the newest revision.
- A database created before migrations existed (tables, no `alembic_version`) has the
  schema of revision 0001 and is stamped so.
- A database behind the code is refused with SchemaVersionError, which names the command
  that upgrades it (`notary admin migrate`); `prepare(engine, upgrade=True)` upgrades it.
- A database ahead of the code (written by a newer release) is refused.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Final

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, inspect

from notary.errors import SchemaVersionError
from notary.store.models import Base

FIRST_REVISION: Final = "0001"
"""The schema of databases created before migrations existed."""
UPGRADE_COMMAND: Final = "notary admin migrate"
_LOCATION: Final = str(resources.files("notary.store").joinpath("migrations"))


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", _LOCATION)
    config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", _LOCATION)
    return ScriptDirectory.from_config(config)


def head() -> str:
    """The newest revision: the schema of this code's models."""
    found = _scripts().get_current_head()
    assert found is not None
    return found


def _known(revision: str) -> bool:
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def current(connection: Connection) -> str | None:
    """The database's revision; None for an empty database.

    Tables without a revision are either a database created before migrations existed
    (revision 0001) or one whose creation was cut short between creating the tables and
    recording the revision (SQLite commits each DDL statement): if its tables are exactly
    the models', it is at the newest revision.
    """
    context = MigrationContext.configure(connection)
    revision = context.get_current_revision()
    if revision is None and inspect(connection).has_table("evidence"):
        if not compare_metadata(context, Base.metadata):
            return head()
        return FIRST_REVISION  # created by create_all before migrations existed
    return revision


def prepare(engine: Engine, *, upgrade: bool = False) -> str:
    """Make sure the schema is this code's; returns the revision it was at before.

    `upgrade=False` refuses a database that is behind (SchemaVersionError, naming the
    command that upgrades it); `upgrade=True` upgrades it.
    """
    with engine.begin() as connection:
        before = current(connection)
        config = _config(connection)
        if before is None:
            Base.metadata.create_all(connection)
            command.stamp(config, "head")
            return "none"
        if before == head():
            if MigrationContext.configure(connection).get_current_revision() is None:
                command.stamp(config, "head")  # its creation was cut short before this
            return before
        if not _known(before):
            raise SchemaVersionError(
                f"the database is at schema revision {before}, newer than this notary "
                f"({head()}): use the release that wrote it"
            )
        if not upgrade:
            raise SchemaVersionError(
                f"the database is at schema revision {before}; this notary needs {head()}: "
                f"back it up, then run `{UPGRADE_COMMAND}`"
            )
        if MigrationContext.configure(connection).get_current_revision() is None:
            command.stamp(config, before)  # a database from before migrations existed
        command.upgrade(config, "head")
        return before
