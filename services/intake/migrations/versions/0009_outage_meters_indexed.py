"""Every repair call with a meter asks which active outage's meters hold it (and an open repair's
ticket which outage holds it): GIN indexes answer both, where a scan read every active outage's
meter list (up to 20,000 meters each) on every call and grew with a storm's outages.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("meter_nos", "ticket_ids"):
        op.create_index(
            f"ix_outages_{column}",
            "outages",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "jsonb_path_ops"},  # @> only, smaller and faster
        )


def downgrade() -> None:
    for column in ("meter_nos", "ticket_ids"):
        op.drop_index(f"ix_outages_{column}", table_name="outages")
