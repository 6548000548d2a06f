"""Assignment counts each crew's open orders on every new repair: a partial index of the orders
a crew still works on answers that without reading every order the crew ever had (a crew
returns thousands a year; the index on crew_id alone visits them all).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The statuses of ACTIVE_FOR_CREW (brightline.dispatch.domain.model) as of this revision.
ACTIVE = ("assigned", "accepted", "en_route", "on_site", "resolved")


def upgrade() -> None:
    op.create_index(
        "ix_work_orders_crew_active",
        "work_orders",
        ["crew_id"],
        postgresql_where=sa.text(f"status IN ({', '.join(repr(s) for s in ACTIVE)})"),
    )


def downgrade() -> None:
    op.drop_index("ix_work_orders_crew_active", table_name="work_orders")
