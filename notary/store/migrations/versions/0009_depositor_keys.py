"""Depositor signatures: depositor_keys (an organization's DEPOSITOR keys on the consortium
registry), organizations.require_signature, and evidence.depositor_signature.

Existing organizations require no signature and existing evidence is unsigned.

Revision ID: 0009_depositor_keys
Revises: 0008_design_sketches
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_depositor_keys"
down_revision = "0008_design_sketches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "depositor_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("registry_address", sa.String(length=42), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("added_tx", sa.String(length=66), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_tx", sa.String(length=66), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("address"),
    )
    op.create_index(
        op.f("ix_depositor_keys_organization_id"),
        "depositor_keys",
        ["organization_id"],
        unique=False,
    )
    # plain ADD COLUMN (SQLite too): a batch rebuild of organizations would trip the foreign
    # keys that point at it
    op.add_column(
        "organizations",
        sa.Column("require_signature", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "evidence", sa.Column("depositor_signature", sa.LargeBinary(length=65), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("depositor_signature")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("require_signature")
    op.drop_index(op.f("ix_depositor_keys_organization_id"), table_name="depositor_keys")
    op.drop_table("depositor_keys")
