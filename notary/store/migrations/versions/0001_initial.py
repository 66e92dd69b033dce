"""The schema of main before migrations existed (2026-11-21).

Databases created by `create_all` before then are at this revision: they are stamped with
it when first opened by code that knows migrations, then upgraded.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("leaf_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("raw_tx", sa.LargeBinary(), nullable=True),
        sa.Column("nonce", sa.Integer(), nullable=True),
        sa.Column("chain_id", sa.Integer(), nullable=True),
        sa.Column("registry_address", sa.String(length=42), nullable=True),
        sa.Column("registry_code_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("notary", sa.String(length=42), nullable=True),
        sa.Column("manifest", sa.String(length=256), nullable=False),
        sa.Column("manifest_pinned", sa.Boolean(), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=True),
        sa.Column("block_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("block_time", sa.Integer(), nullable=True),
        sa.Column("anchored_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("root"),
    )
    op.create_index(op.f("ix_batches_status"), "batches", ["status"], unique=False)
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("prefix"),
    )
    op.create_table(
        "batch_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_batch_events_batch_id"), "batch_events", ["batch_id"], unique=False)
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sm3", sa.LargeBinary(length=32), nullable=True),
        sa.Column("metadata_json", sa.JSON(), nullable=False),
        sa.Column("depositor", sa.String(length=256), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=32), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("cid", sa.String(length=100), nullable=True),
        sa.Column("pin_state", sa.String(length=16), nullable=False),
        sa.Column("pin_attempts", sa.Integer(), nullable=False),
        sa.Column("pin_error", sa.String(length=512), nullable=False),
        sa.Column("spool", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "idempotency_key", name="uq_evidence_org_idem"),
        sa.UniqueConstraint("organization_id", "sha256", name="uq_evidence_org_sha256"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_index(op.f("ix_evidence_batch_id"), "evidence", ["batch_id"], unique=False)
    op.create_index("ix_evidence_org_created", "evidence", ["organization_id", "id"], unique=False)
    op.create_index(op.f("ix_evidence_pin_state"), "evidence", ["pin_state"], unique=False)
    op.create_index(op.f("ix_evidence_status"), "evidence", ["status"], unique=False)
    op.create_table(
        "evidence_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["evidence.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_evidence_events_evidence_id"), "evidence_events", ["evidence_id"], unique=False
    )
    op.create_table(
        "evidence_tags",
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=4096), nullable=False),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["evidence.id"],
        ),
        sa.PrimaryKeyConstraint("evidence_id", "tag"),
    )
    op.create_index("ix_evidence_tags_tag", "evidence_tags", ["tag", "evidence_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_evidence_tags_tag", table_name="evidence_tags")
    op.drop_table("evidence_tags")
    op.drop_index(op.f("ix_evidence_events_evidence_id"), table_name="evidence_events")
    op.drop_table("evidence_events")
    op.drop_index(op.f("ix_evidence_status"), table_name="evidence")
    op.drop_index(op.f("ix_evidence_pin_state"), table_name="evidence")
    op.drop_index("ix_evidence_org_created", table_name="evidence")
    op.drop_index(op.f("ix_evidence_batch_id"), table_name="evidence")
    op.drop_table("evidence")
    op.drop_index(op.f("ix_batch_events_batch_id"), table_name="batch_events")
    op.drop_table("batch_events")
    op.drop_table("api_keys")
    op.drop_table("organizations")
    op.drop_index(op.f("ix_batches_status"), table_name="batches")
    op.drop_table("batches")
