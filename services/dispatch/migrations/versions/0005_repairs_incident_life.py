"""Repairs a dispatcher can trust: the arrival clock's start (受理), reopened orders of one
ticket, orders waiting for routing, cancellation, what a crew needs of the customer, the
incident's life, and tickets linked to an incident or order by intake (repeat calls).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    # A reopened repair is a new order of the same ticket.
    op.drop_constraint("work_orders_ticket_id_key", "work_orders", type_="unique")
    op.create_index("ix_work_orders_ticket_id", "work_orders", ["ticket_id"])
    for column in (
        sa.Column("reported_at", TZ),
        sa.Column("reopened_from", sa.String(36)),
        sa.Column("needs_routing", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("cancel_reason", sa.Text),
        sa.Column("ticket_no", sa.String(32)),
        sa.Column("caller_name", sa.String(100)),
        sa.Column("phone", sa.String(32)),
        sa.Column("area_code", sa.String(32)),
        sa.Column("fault_scope", sa.String(16)),
        sa.Column("arrive_by", TZ),
    ):
        op.add_column("work_orders", column)
    op.create_index(
        "ix_work_orders_needs_routing",
        "work_orders",
        ["needs_routing"],
        postgresql_where=sa.text("needs_routing"),
    )
    op.add_column("service_areas", sa.Column("name", sa.String(200)))
    for column in (
        sa.Column("area_code", sa.String(32)),
        sa.Column("confirmed_at", TZ),
        sa.Column("crew_on_site_at", TZ),
        sa.Column("cancelled_at", TZ),
        sa.Column("cancel_reason", sa.Text),
        sa.Column("restored_by", sa.String(16)),
        sa.Column("closed_by", sa.String(64)),
    ):
        op.add_column("incidents", column)
    # Incidents open before this revision were declared on evidence: count them confirmed.
    op.execute("UPDATE incidents SET status = 'confirmed' WHERE status = 'open'")
    op.create_table(
        "incident_links",
        sa.Column("ticket_id", sa.String(36), primary_key=True),
        sa.Column("incident_id", sa.String(36), index=True),
        sa.Column("work_order_id", sa.String(36), index=True),
        sa.Column("linked_ticket_id", sa.String(36)),
        sa.Column("unit_id", sa.String(64)),
        sa.Column("linked_at", TZ, nullable=False),
        sa.Column("released_at", TZ),
        sa.Column("area_code", sa.String(32)),
        sa.Column("address", sa.Text),
        sa.Column("meter_no", sa.String(64)),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("caller_name", sa.String(100)),
        sa.Column("phone", sa.String(32)),
        sa.Column("ticket_no", sa.String(32)),
        sa.Column("description", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("incident_links")
    for name in (
        "closed_by",
        "restored_by",
        "cancel_reason",
        "cancelled_at",
        "crew_on_site_at",
        "confirmed_at",
        "area_code",
    ):
        op.drop_column("incidents", name)
    op.execute("UPDATE incidents SET status = 'open' WHERE status <> 'restored'")
    op.drop_column("service_areas", "name")
    op.drop_index("ix_work_orders_needs_routing", "work_orders")
    for name in (
        "arrive_by",
        "fault_scope",
        "area_code",
        "phone",
        "caller_name",
        "ticket_no",
        "cancel_reason",
        "needs_routing",
        "reopened_from",
        "reported_at",
    ):
        op.drop_column("work_orders", name)
    op.drop_index("ix_work_orders_ticket_id", "work_orders")
    op.create_unique_constraint("work_orders_ticket_id_key", "work_orders", ["ticket_id"])
