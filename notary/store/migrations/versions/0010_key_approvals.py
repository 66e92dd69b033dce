"""Depositor key changes approved by the consortium's endorser nodes: the key's consent and
the change as proposed on depositor_keys, and key_approvals (one signature per endorser and
proposed change).

Keys registered before carry no consent: a pending one cannot be checked by an endorser
and stays pending (remove it and register it again).

Revision ID: 0010_key_approvals
Revises: 0009_depositor_keys
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010_key_approvals"
down_revision = "0009_depositor_keys"
branch_labels = None
depends_on = None


def _columns() -> list[sa.Column[Any]]:
    """Fresh columns each call (a Column object belongs to one table once added)."""
    return [
        sa.Column("consent", sa.LargeBinary(length=65), nullable=True),
        sa.Column("change_nonce", sa.Integer(), nullable=True),
        sa.Column("change_threshold", sa.Integer(), nullable=True),
        sa.Column("change_deadline", sa.Integer(), nullable=True),
        sa.Column("change_digest", sa.LargeBinary(length=32), nullable=True),
        sa.Column("last_refusal", sa.String(length=512), nullable=True),
    ]


def upgrade() -> None:
    # plain ADD COLUMN (SQLite too): a batch rebuild would trip the foreign keys pointing at it
    for column in _columns():
        op.add_column("depositor_keys", column)
    op.create_index(
        op.f("ix_depositor_keys_change_digest"), "depositor_keys", ["change_digest"], unique=False
    )
    op.create_table(
        "key_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=65), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["depositor_keys.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest", "signer"),
    )
    op.create_index(op.f("ix_key_approvals_key_id"), "key_approvals", ["key_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_key_approvals_key_id"), table_name="key_approvals")
    op.drop_table("key_approvals")
    op.drop_index(op.f("ix_depositor_keys_change_digest"), table_name="depositor_keys")
    with op.batch_alter_table("depositor_keys") as batch:
        for column in reversed(_columns()):
            batch.drop_column(column.name)
