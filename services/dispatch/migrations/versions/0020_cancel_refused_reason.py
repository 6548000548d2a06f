"""A refused request to cancel (撤单驳回) keeps its reason in a column of its own: written into
sent_back_reason, the crew's phone read it as a return sent back (回单退回), and the dispatcher's
return review later showed it as one.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("work_orders", sa.Column("cancel_refused_reason", sa.Text))


def downgrade() -> None:
    op.drop_column("work_orders", "cancel_refused_reason")
