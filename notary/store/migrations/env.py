"""Alembic environment: runs on the connection notary.store.schema hands it."""

from __future__ import annotations

from alembic import context

from notary.store.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
