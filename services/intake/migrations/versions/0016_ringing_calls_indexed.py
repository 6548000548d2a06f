"""Calls still ringing, indexed by when intake first heard of them: the watch for lost hangups
(brightline.intake.call_watch) asks every minute for the ringing calls heard of before its
cutoff. The index holds only ringing calls, a handful however many calls the table keeps.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_calls_ringing_first_seen_at",
        "calls",
        ["first_seen_at"],
        postgresql_where=sa.text("state = 'ringing'"),
    )


def downgrade() -> None:
    op.drop_index("ix_calls_ringing_first_seen_at", table_name="calls")
