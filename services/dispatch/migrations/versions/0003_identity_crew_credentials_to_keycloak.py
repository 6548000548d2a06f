"""Crew members sign in with the identity provider: no PIN hash is kept here any more.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column("crew_members", "password_hash")


def downgrade() -> None:
    op.add_column(
        "crew_members",
        sa.Column("password_hash", sa.Text, nullable=False, server_default="!"),
    )
