"""Key management and searchable metadata: api_keys.expires_at and last_used_at, and
evidence_fields (one row per value of a searchable metadata field).

Existing keys get neither (they never expire); existing evidence could not carry the
searchable fields (the API refused metadata keys beyond a fixed few), so nothing is
backfilled.

Revision ID: 0005_keys_metadata
Revises: 0004_webhooks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_keys_metadata"
down_revision = "0004_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(), nullable=True))
    op.create_table(
        "evidence_fields",
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"]),
        sa.PrimaryKeyConstraint("evidence_id", "name", "value"),
    )
    op.create_index(
        "ix_evidence_fields_value",
        "evidence_fields",
        ["name", "value", "evidence_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_evidence_fields_value", table_name="evidence_fields")
    op.drop_table("evidence_fields")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
