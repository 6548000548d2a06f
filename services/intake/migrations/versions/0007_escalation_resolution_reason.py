"""Why the supervisor resolved an escalation so: a decline names its reason, which the agent is
told.

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
    op.add_column("escalations", sa.Column("resolution_reason", sa.Text))


def downgrade() -> None:
    op.drop_column("escalations", "resolution_reason")
