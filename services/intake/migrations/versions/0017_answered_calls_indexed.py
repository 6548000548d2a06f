"""Calls answered and not ended, indexed by their answer time: the watch for lost hangups
(brightline.intake.call_watch) also asks every minute for the answered calls whose hangup never
came. The index holds only the calls being talked, a handful however many calls the table keeps.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_calls_answered_answered_at",
        "calls",
        ["answered_at"],
        postgresql_where=sa.text("state = 'answered'"),
    )


def downgrade() -> None:
    op.drop_index("ix_calls_answered_answered_at", table_name="calls")
