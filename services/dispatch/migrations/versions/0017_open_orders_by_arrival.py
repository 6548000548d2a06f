"""The open orders, most urgent first. The dispatcher board and the owners of open clocks read
the newest 200 orders of any status: in a storm the finished ones filled the board and the
orders still waiting for a crew dropped off it. They now read the open orders by their arrival
limit, and this partial index holds them in that order however many orders the table keeps.

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

# The statuses of OPEN_STATUSES (brightline.dispatch.domain.model) as of this revision.
OPEN = ("created", "assigned", "accepted", "en_route", "on_site", "resolved")


def upgrade() -> None:
    op.create_index(
        "ix_work_orders_open_by_arrival",
        "work_orders",
        ["arrive_by", "created_at"],
        postgresql_where=sa.text("status IN (" + ", ".join(f"'{s}'" for s in OPEN) + ")"),
    )


def downgrade() -> None:
    op.drop_index("ix_work_orders_open_by_arrival", table_name="work_orders")
