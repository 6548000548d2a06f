"""Every new repair order asks whether repeat calls wait for it (links to its ticket that came
before the order): a partial index answers that without reading every link ever made.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_incident_links_waiting",
        "incident_links",
        ["linked_ticket_id"],
        postgresql_where=sa.text("work_order_id IS NULL AND released_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_incident_links_waiting", table_name="incident_links")
