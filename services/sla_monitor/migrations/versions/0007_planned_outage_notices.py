"""Planned outages registered, with whether the 7-day notice came too late (a KPI breach).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "planned_outage_notices",
        sa.Column("planned_outage_id", sa.String(64), primary_key=True),
        sa.Column("unit_id", sa.String(64)),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notice_required_days", sa.Float, nullable=False),
        sa.Column("notice_given_hours", sa.Float, nullable=False),
        sa.Column("notice_late", sa.Boolean, nullable=False),
        sa.Column("important_customers", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_planned_outage_notices_registered_at", "planned_outage_notices", ["registered_at"]
    )


def downgrade() -> None:
    op.drop_table("planned_outage_notices")
