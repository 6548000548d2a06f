"""A seat's "answered today" counts a day: the business day of its calls is kept beside the
count, which starts again at the centre's midnight (the floor in the database outlives a day:
an agent saw yesterday's calls added to today's).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("floor_seats", sa.Column("answered_on", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("floor_seats", "answered_on")
