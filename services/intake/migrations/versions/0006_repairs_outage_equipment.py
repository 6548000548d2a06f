"""Outages as dispatch announces them now: the meters under the faulty equipment (repeat calls
link to an incident only from one of those, never from the whole area), the area's name for
what callers are told, the incident's state, and each order's arrival deadline.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "outages", sa.Column("meter_nos", JSONB, nullable=False, server_default=sa.text("'[]'"))
    )
    op.add_column(
        "outages", sa.Column("area_names", JSONB, nullable=False, server_default=sa.text("'[]'"))
    )
    op.add_column("outages", sa.Column("status", sa.String(16)))
    op.add_column("work_orders", sa.Column("arrive_by", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("work_orders", "arrive_by")
    op.drop_column("outages", "status")
    op.drop_column("outages", "area_names")
    op.drop_column("outages", "meter_nos")
