"""Sharing evidence with other organizations (courts, regulators) and the access log.

The access log is append-only: triggers refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL), the same ones notary.store.models attaches to a table created from the models.

Revision ID: 0003_shares
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_shares"
down_revision = "0002"
branch_labels = None
depends_on = None

# a copy of notary.store.models.ACCESS_LOG_TRIGGERS as of this revision (a revision never
# changes with the models)
ACCESS_LOG_TRIGGERS: dict[str, tuple[str, ...]] = {
    "sqlite": (
        "CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log "
        "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END",
        "CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log "
        "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END",
    ),
    "postgresql": (
        "CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'access_log is append-only'; END $$",
        "CREATE TRIGGER access_log_no_change BEFORE UPDATE OR DELETE ON access_log "
        "FOR EACH ROW EXECUTE FUNCTION access_log_append_only()",
        "CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()",
    ),
}


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("grantee_id", sa.Integer(), nullable=False),
        sa.Column("case_ref", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"]),
        sa.ForeignKeyConstraint(["grantee_id"], ["organizations.id"]),
        sa.ForeignKeyConstraint(["owner_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_index("ix_shares_grantee", "shares", ["grantee_id", "id"], unique=False)
    op.create_index(op.f("ix_shares_evidence_id"), "shares", ["evidence_id"], unique=False)
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("key_prefix", sa.String(length=16), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
        sa.ForeignKeyConstraint(["share_id"], ["shares.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_log_evidence", "access_log", ["evidence_id", "id"], unique=False)
    for statement in ACCESS_LOG_TRIGGERS.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION access_log_append_only() CASCADE")
    op.drop_index("ix_access_log_evidence", table_name="access_log")
    op.drop_table("access_log")  # SQLite drops its triggers with it
    op.drop_index(op.f("ix_shares_evidence_id"), table_name="shares")
    op.drop_index("ix_shares_grantee", table_name="shares")
    op.drop_table("shares")
