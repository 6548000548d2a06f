"""The scanner looks for lead orders waiting for a crew every five seconds: a partial index of
those orders answers it (a handful at a time), where it read every order there ever was.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_work_orders_unassigned_leads",
        "work_orders",
        ["created_at"],
        postgresql_where=sa.text("status = 'created' AND is_lead"),
    )


def downgrade() -> None:
    op.drop_index("ix_work_orders_unassigned_leads", table_name="work_orders")
