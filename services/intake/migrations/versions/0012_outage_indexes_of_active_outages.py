"""The GIN indexes of outages' meters and tickets (0009) hold only active outages: a restored or
cancelled outage stays in the table for good, and with it, in a whole-table index, every meter of
its equipment (up to 20,000) and every ticket it held. Every repair call asks only about active
outages; with the history in the index, PostgreSQL read every outage there ever was instead (a
sequential scan of the table for each open repair of the caller's address).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = ("meter_nos", "ticket_ids")


def upgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_outages_{column}", table_name="outages")
        op.create_index(
            f"ix_outages_active_{column}",
            "outages",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "jsonb_path_ops"},  # @> only, smaller and faster
            postgresql_where=sa.text("active"),
        )


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_outages_active_{column}", table_name="outages")
        op.create_index(
            f"ix_outages_{column}",
            "outages",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "jsonb_path_ops"},
        )
