"""Consortium endorsement: batches.batch_time, a wider batches.status (for
"awaiting_endorsement"), endorsements (one signature per endorser and batch), and
endorser_contacts (when each endorser last spoke to this notary).

Existing batches were anchored on a single-operator registry and get no batch time.

Revision ID: 0007_consortium
Revises: 0006_monitor
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_consortium"
down_revision = "0006_monitor"
branch_labels = None
depends_on = None


def _foreign_keys(on: bool) -> None:
    """SQLite rebuilds `batches` to widen a column (copy, drop, rename): evidence rows point
    at it, so foreign key checks pause meanwhile (the rows keep their ids)."""
    if op.get_bind().dialect.name == "sqlite":  # checked at commit instead (ids are kept)
        op.execute(f"PRAGMA defer_foreign_keys={'OFF' if on else 'ON'}")


def upgrade() -> None:
    _foreign_keys(False)
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("batch_time", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("endorsement_threshold", sa.Integer(), nullable=True))
        batch.alter_column(
            "status",
            existing_type=sa.String(length=16),
            type_=sa.String(length=32),
            existing_nullable=False,
        )
    _foreign_keys(True)
    op.create_table(
        "endorsements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("batch_time", sa.Integer(), nullable=False),
        sa.Column("registry_address", sa.String(length=42), nullable=False),
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("organization", sa.LargeBinary(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=65), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("batch_id", "signer"),
    )
    op.create_index(op.f("ix_endorsements_batch_id"), "endorsements", ["batch_id"], unique=False)
    op.create_table(
        "endorser_contacts",
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("last_word", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("address"),
    )


def downgrade() -> None:
    op.drop_table("endorser_contacts")
    op.drop_index(op.f("ix_endorsements_batch_id"), table_name="endorsements")
    op.drop_table("endorsements")
    _foreign_keys(False)
    with op.batch_alter_table("batches") as batch:
        batch.alter_column(
            "status",
            existing_type=sa.String(length=32),
            type_=sa.String(length=16),
            existing_nullable=False,
        )
        batch.drop_column("endorsement_threshold")
        batch.drop_column("batch_time")
    _foreign_keys(True)
