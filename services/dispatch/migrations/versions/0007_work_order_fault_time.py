"""A work order keeps when the power went off, as the caller said (intake requires it of every
repair).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("work_orders", sa.Column("fault_started_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("work_orders", "fault_started_at")
