"""Early warning (notary.monitor): design fingerprints and their status, watch lists,
captures and alerts.

Evidence deposited before this revision has no fingerprint status ("not_fingerprinted" in
the evidence view); nothing is backfilled here, fingerprinting old files needs their bytes.

Revision ID: 0006_monitor
Revises: 0005_keys_metadata
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_monitor"
down_revision = "0005_keys_metadata"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "design_fingerprints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("bits", sa.LargeBinary(length=32), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_design_fingerprints_evidence_id"),
        "design_fingerprints",
        ["evidence_id"],
        unique=False,
    )
    op.create_table(
        "fingerprint_status",
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=512), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"]),
        sa.PrimaryKeyConstraint("evidence_id"),
    )
    op.create_table(
        "watch_lists",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("disclose_to_finders", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("organization_id"),
    )
    op.create_table(
        "captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("source_url", sa.String(length=2048), nullable=False),
        sa.Column("shop", sa.String(length=256), nullable=False),
        sa.Column("price", sa.String(length=64), nullable=False),
        sa.Column("captured_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("evidence_id"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_index(
        op.f("ix_captures_organization_id"), "captures", ["organization_id"], unique=False
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("design_id", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["capture_id"], ["captures.id"]),
        sa.ForeignKeyConstraint(["design_id"], ["evidence.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("design_id", "capture_id", name="uq_alerts_design_capture"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_index("ix_alerts_org", "alerts", ["organization_id", "id"], unique=False)
    op.create_index(op.f("ix_alerts_capture_id"), "alerts", ["capture_id"], unique=False)
    op.create_index(op.f("ix_alerts_design_id"), "alerts", ["design_id"], unique=False)


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("captures")
    op.drop_table("watch_lists")
    op.drop_table("fingerprint_status")
    op.drop_index(op.f("ix_design_fingerprints_evidence_id"), table_name="design_fingerprints")
    op.drop_table("design_fingerprints")
