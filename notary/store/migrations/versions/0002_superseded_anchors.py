"""Finality and reconciliation: superseded anchors (certificates whose anchor vanished).

Also drops the unique index on evidence.leaf_hash where an old database still has it
(removed from the models on 2026-11-21 for bulk speed; create_all never dropped it).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "superseded_anchors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(length=512), nullable=False),
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("registry_address", sa.String(length=42), nullable=False),
        sa.Column("registry_code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("notary", sa.String(length=42), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("block_time", sa.Integer(), nullable=False),
        sa.Column("anchored_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_superseded_anchors_batch_id"), "superseded_anchors", ["batch_id"], unique=False
    )
    indexes = {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("evidence")}
    if "ix_evidence_leaf_hash" in indexes:
        op.drop_index("ix_evidence_leaf_hash", table_name="evidence")


def downgrade() -> None:
    op.drop_index(op.f("ix_superseded_anchors_batch_id"), table_name="superseded_anchors")
    op.drop_table("superseded_anchors")
