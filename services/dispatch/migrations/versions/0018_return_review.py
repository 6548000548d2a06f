"""回单审核: a crew's return waits for the duty dispatcher's review before the ticket closes and
goes to callback. The order keeps when and by whom its return passed (or why it was last sent
back to the crew), and a partial index holds the queue of returns waiting, oldest first.

Every order returned before this revision passed at its return (the rule then): it is marked
reviewed at that time, by nobody named, so the queue starts empty.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("work_orders", sa.Column("reviewed_at", TZ))
    op.add_column("work_orders", sa.Column("reviewed_by", sa.String(200)))
    op.add_column("work_orders", sa.Column("sent_back_reason", sa.Text))
    op.execute("UPDATE work_orders SET reviewed_at = returned_at WHERE status = 'returned'")
    op.create_index(
        "ix_work_orders_awaiting_review",
        "work_orders",
        ["returned_at"],
        postgresql_where=sa.text("status = 'returned' AND reviewed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_work_orders_awaiting_review", table_name="work_orders")
    for column in ("sent_back_reason", "reviewed_by", "reviewed_at"):
        op.drop_column("work_orders", column)
