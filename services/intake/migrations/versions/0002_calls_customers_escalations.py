"""Calls from the switch, the customer directory, outages and work orders learned from dispatch,
escalations, number flags, the audit trail; ticket columns for ownership and linking.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Tickets: current owner (first-ask responsibility moves on takeover/handover) and the
    # columns repeat-call linking and the caller card search on.
    op.add_column("tickets", sa.Column("owner", sa.String(64)))
    op.execute("UPDATE tickets SET owner = first_ask_owner")
    op.alter_column("tickets", "owner", nullable=False)
    for name, type_ in [
        ("phone", sa.String(32)),
        ("customer_id", sa.String(64)),
        ("address_key", sa.String(300)),
        ("area_code", sa.String(32)),
        ("meter_no", sa.String(32)),
        ("call_id", sa.String(64)),
        ("script", sa.String(100)),
        ("linked_ticket_id", sa.String(36)),
        ("linked_incident_id", sa.String(64)),
        ("completed_by", sa.String(64)),
    ]:
        op.add_column("tickets", sa.Column(name, type_))
    op.add_column("tickets", sa.Column("completed_at", TS))
    op.add_column(
        "tickets", sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false())
    )
    for col in (
        "owner",
        "phone",
        "customer_id",
        "address_key",
        "area_code",
        "meter_no",
        "recorded_at",
    ):
        op.create_index(f"ix_tickets_{col}", "tickets", [col])

    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(64), primary_key=True),
        sa.Column("caller_number", sa.String(32)),
        sa.Column("called_number", sa.String(32)),
        sa.Column("queue", sa.String(64)),
        sa.Column("agent_extension", sa.String(32)),
        sa.Column("agent_id", sa.String(64)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("rang_at", TS),
        sa.Column("answered_at", TS),
        sa.Column("ended_at", TS),
        sa.Column("end_cause", sa.String(16)),
        sa.Column("answer_delay_seconds", sa.Float),
        sa.Column("first_seen_at", TS, nullable=False),
    )
    op.create_index("ix_calls_caller_number", "calls", ["caller_number"])
    op.create_table(
        "call_events",
        sa.Column("call_id", sa.String(64), primary_key=True),
        sa.Column("event", sa.String(16), primary_key=True),
        sa.Column("switch_time", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("body", JSONB, nullable=False),
    )
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100)),
        sa.Column("address", sa.String(300)),
        sa.Column("address_key", sa.String(300)),
        sa.Column("area_code", sa.String(32)),
        sa.Column("meter_no", sa.String(32)),
        sa.Column("sensitive", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "customer_phones",
        sa.Column("phone", sa.String(32), primary_key=True),
        sa.Column(
            "customer_id",
            sa.String(64),
            sa.ForeignKey("customers.customer_id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "number_flags",
        sa.Column("phone", sa.String(32), primary_key=True),
        sa.Column("harassing", sa.Boolean, nullable=False),
        sa.Column("marked_by", sa.String(64), nullable=False),
        sa.Column("marked_at", TS, nullable=False),
        sa.Column("escalation_id", sa.String(36)),
    )
    op.create_table(
        "outages",
        sa.Column("incident_id", sa.String(64), primary_key=True),
        sa.Column("unit_id", sa.String(64)),
        sa.Column("area_codes", JSONB, nullable=False),
        sa.Column("ticket_ids", JSONB, nullable=False),
        sa.Column("expected_restore_at", TS),
        sa.Column("cause", sa.String(200)),
        sa.Column("declared_at", TS),
        sa.Column("restored_at", TS),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "work_orders",
        sa.Column("work_order_id", sa.String(64), primary_key=True),
        sa.Column("ticket_id", sa.String(36), nullable=False, index=True),
        sa.Column("unit_id", sa.String(64)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("crew_id", sa.String(64)),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "escalations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(64)),
        sa.Column("ticket_id", sa.String(36)),
        sa.Column("caller_number", sa.String(32)),
        sa.Column("note", sa.Text),
        sa.Column("status", sa.String(24), nullable=False, index=True),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("supervisor_id", sa.String(64)),
        sa.Column("resolved_at", TS),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("ticket_id", sa.String(36), index=True),
        sa.Column("escalation_id", sa.String(36), index=True),
        sa.Column("details", JSONB, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "audit_log",
        "escalations",
        "work_orders",
        "outages",
        "number_flags",
        "customer_phones",
        "customers",
        "call_events",
        "calls",
    ):
        op.drop_table(table)
    for col in (
        "owner",
        "phone",
        "customer_id",
        "address_key",
        "area_code",
        "meter_no",
        "recorded_at",
    ):
        op.drop_index(f"ix_tickets_{col}", "tickets")
    for col in (
        "owner",
        "phone",
        "customer_id",
        "address_key",
        "area_code",
        "meter_no",
        "call_id",
        "script",
        "linked_ticket_id",
        "linked_incident_id",
        "completed_by",
        "completed_at",
        "closed",
    ):
        op.drop_column("tickets", col)
