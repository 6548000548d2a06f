"""Why the supervisor resolved an escalation so (a decline always says), as intake's
escalation.resolved now carries it: the agent who asked is told.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("escalation_outcomes", sa.Column("reason", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("escalation_outcomes", "reason")
