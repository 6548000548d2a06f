"""Planned outages as intake learns them from dispatch (caller card, greeting, linking).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "planned_outages_seen",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("area_codes", JSONB, nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("announced_at", TZ, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("cancelled", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_planned_outages_seen_areas",
        "planned_outages_seen",
        ["area_codes"],
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_table("planned_outages_seen")
