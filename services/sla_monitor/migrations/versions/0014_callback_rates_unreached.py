"""Callback rates keep the tickets whose every attempt failed: the month-end projection (kpis.
project_callback_rate) counts the pending ones in the proportion the decided ones were reached.
Rows from before count none unreached until the callback service publishes their day again.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "callback_rates",
        sa.Column("attempted_unreached", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("callback_rates", "attempted_unreached")
