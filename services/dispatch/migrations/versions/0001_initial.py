"""Work orders, service areas and the messaging tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

from brightline.messaging.schema import create_messaging_tables_v1, drop_messaging_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables_v1()
    op.create_table(
        "work_orders",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("ticket_id", sa.String(36), nullable=False, unique=True),
        sa.Column("unit_id", sa.String(64), nullable=False, index=True),
        sa.Column("area_class", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "service_areas",
        sa.Column("area_code", sa.String(32), primary_key=True),
        sa.Column("unit_id", sa.String(64), nullable=False),
        sa.Column("area_class", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("service_areas")
    op.drop_table("work_orders")
    drop_messaging_tables_v1()
