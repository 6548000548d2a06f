"""Sign-in directory of agents and supervisors; the chase (催办) log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("staff_no", sa.String(16), nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("extension", sa.String(16), nullable=True),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "chases",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("deadline_id", sa.String(64), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=True),
        sa.Column("limit_key", sa.String(100), nullable=True),
        sa.Column("supervisor", sa.String(64), nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_chases_deadline_id", "chases", ["deadline_id"])


def downgrade() -> None:
    op.drop_index("ix_chases_deadline_id", table_name="chases")
    op.drop_table("chases")
    op.drop_table("users")
