"""Crew members sign in with the identity provider: no PIN hash is kept here any more.

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
    op.drop_column("crew_members", "password_hash")


def downgrade() -> None:
    op.add_column(
        "crew_members",
        sa.Column("password_hash", sa.Text, nullable=False, server_default="!"),
    )
