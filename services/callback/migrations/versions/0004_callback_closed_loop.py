"""Closed loop (issue 15): an outage batch only marks the restoration notice given; each task keeps
the handling result said in the callback; contacts keep the day the customer called.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "callback_tasks",
        sa.Column("restoration_notice_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("callback_tasks", sa.Column("restoration_notice_by", sa.String(64)))
    op.add_column("callback_tasks", sa.Column("result", sa.Text, nullable=True))
    op.add_column("contacts", sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("contacts", "recorded_at")
    op.drop_column("callback_tasks", "result")
    op.drop_column("callback_tasks", "restoration_notice_by")
    op.drop_column("callback_tasks", "restoration_notice_at")
