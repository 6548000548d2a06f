"""Crews, members, shifts, order history, photos, grid topology and outage incidents.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    for column in (
        sa.Column("crew_id", sa.String(64)),
        sa.Column("incident_id", sa.String(36)),
        sa.Column("is_lead", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("meter_no", sa.String(64)),
        sa.Column("accept_by", TZ),
        sa.Column("updated_at", TZ),
        sa.Column("cause", sa.Text),
        sa.Column("notes", sa.Text),
        sa.Column("resolution", sa.String(32)),
        sa.Column("returned_at", TZ),
        sa.Column("address", sa.Text),  # where the crew goes
        sa.Column("description", sa.Text),
    ):
        op.add_column("work_orders", column)
    op.create_index("ix_work_orders_crew_id", "work_orders", ["crew_id"])
    op.create_index("ix_work_orders_incident_id", "work_orders", ["incident_id"])
    # The acceptance-timeout scanner reads only assigned orders past their deadline.
    op.create_index(
        "ix_work_orders_pending_accept",
        "work_orders",
        ["accept_by"],
        postgresql_where=sa.text("status = 'assigned'"),
    )
    op.create_table(
        "units",
        sa.Column("unit_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "crews",
        sa.Column("crew_id", sa.String(64), primary_key=True),
        sa.Column("unit_id", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("on_duty", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("position_at", TZ),
    )
    op.create_table(
        "crew_members",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("crew_id", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
    )
    op.create_table(
        "crew_shifts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("crew_id", sa.String(64), nullable=False, index=True),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
    )
    op.create_table(
        "work_order_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("work_order_id", sa.String(36), nullable=False, index=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("previous_status", sa.String(32), nullable=False),
        sa.Column("crew_id", sa.String(64)),
        sa.Column("actor", sa.String(64)),
        sa.Column("reason", sa.Text),
        sa.Column("at", TZ, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("work_order_id", sa.String(36), nullable=False, index=True),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("uploaded_at", TZ, nullable=False),
    )
    op.create_table(
        "transformers",
        sa.Column("transformer_id", sa.String(64), primary_key=True),
        sa.Column("feeder_id", sa.String(64), index=True),
    )
    op.create_table(
        "meters",
        sa.Column("meter_no", sa.String(64), primary_key=True),
        sa.Column("transformer_id", sa.String(64), nullable=False, index=True),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("unit_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("transformer_id", sa.String(64)),
        sa.Column("feeder_id", sa.String(64)),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("radius_m", sa.Float),
        sa.Column("declared_at", TZ, nullable=False),
        sa.Column("last_report_at", TZ, nullable=False),
        sa.Column("expected_restore_at", TZ),
        sa.Column("restored_at", TZ),
        sa.Column("cause", sa.Text),
        sa.Column("lead_work_order_id", sa.String(36)),
    )


def downgrade() -> None:
    for table in (
        "incidents",
        "meters",
        "transformers",
        "attachments",
        "work_order_history",
        "crew_shifts",
        "crew_members",
        "crews",
        "units",
    ):
        op.drop_table(table)
    op.drop_index("ix_work_orders_pending_accept", "work_orders")
    op.drop_index("ix_work_orders_incident_id", "work_orders")
    op.drop_index("ix_work_orders_crew_id", "work_orders")
    for name in (
        "description",
        "address",
        "returned_at",
        "resolution",
        "notes",
        "cause",
        "updated_at",
        "accept_by",
        "meter_no",
        "longitude",
        "latitude",
        "is_lead",
        "incident_id",
        "crew_id",
    ):
        op.drop_column("work_orders", name)
