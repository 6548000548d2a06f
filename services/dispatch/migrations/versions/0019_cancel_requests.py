"""申请撤单: a crew no longer cancels an order itself. Its request to cancel (with the reason)
waits for the duty dispatcher, who cancels the order or refuses with why; until then the order
and the customer's arrival clock run on. A partial index holds the requests waiting, oldest first.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("work_orders", sa.Column("cancel_requested_at", sa.DateTime(timezone=True)))
    op.add_column("work_orders", sa.Column("cancel_requested_by", sa.String(200)))
    op.create_index(
        "ix_work_orders_cancel_requested",
        "work_orders",
        ["cancel_requested_at"],
        postgresql_where=sa.text("cancel_requested_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_work_orders_cancel_requested", table_name="work_orders")
    op.drop_column("work_orders", "cancel_requested_by")
    op.drop_column("work_orders", "cancel_requested_at")
