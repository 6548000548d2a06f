"""Provisional deadlines (counted past the calendar's known years) and retracted breaches.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "deadlines",
        sa.Column("provisional", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("deadlines", sa.Column("breach_retracted_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_deadlines_provisional",
        "deadlines",
        ["opened_at"],
        postgresql_where=sa.text("provisional"),
    )


def downgrade() -> None:
    op.drop_index("ix_deadlines_provisional", table_name="deadlines")
    op.drop_column("deadlines", "breach_retracted_at")
    op.drop_column("deadlines", "provisional")
