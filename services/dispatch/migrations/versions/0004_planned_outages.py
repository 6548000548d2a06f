"""Planned outages (计划停电) registered by the outage management system.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "planned_outages",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("unit_id", sa.String(64)),
        sa.Column("feeder_id", sa.String(64)),
        sa.Column("area_codes", JSONB, nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("announced_at", TZ, nullable=False),
        sa.Column("registered_at", TZ, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("notice_required_s", sa.Float, nullable=False),
        sa.Column("important_customer_ids", JSONB, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index(
        "ix_planned_outages_area_codes",
        "planned_outages",
        ["area_codes"],
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_table("planned_outages")
