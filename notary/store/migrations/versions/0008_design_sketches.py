"""Design sketches (notary.monitor.sketch): the small edge image of each design that
confirms a candidate match of the watch index.

Designs fingerprinted before this revision have no sketch: their PDQ matches count as
before (without the second look), and the `spectrum` kind cannot find them.

Revision ID: 0008_design_sketches
Revises: 0007_consortium
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_design_sketches"
down_revision = "0007_consortium"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "design_sketches",
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("sketch", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"]),
        sa.PrimaryKeyConstraint("evidence_id"),
    )


def downgrade() -> None:
    op.drop_table("design_sketches")
