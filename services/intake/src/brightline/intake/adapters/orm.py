"""Intake's tables. The messaging tables (outbox, inbox, idempotency keys) are created by the
first migration from brightline.messaging.schema. Migrations are the source of truth; these
Core tables mirror them for queries."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()
TS = sa.DateTime(timezone=True)

ticket_no_seq = sa.Sequence("ticket_no_seq", metadata=metadata)

tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("no", sa.String(32), nullable=False, unique=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("recorded_at", TS, nullable=False),
    sa.Column("first_ask_owner", sa.String(64), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("details", JSONB, nullable=False),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("phone", sa.String(32)),
    sa.Column("customer_id", sa.String(64)),
    sa.Column("address_key", sa.String(300)),
    sa.Column("area_code", sa.String(32)),
    sa.Column("meter_no", sa.String(32)),
    sa.Column("call_id", sa.String(64)),
    sa.Column("script", sa.String(100)),
    sa.Column("linked_ticket_id", sa.String(36)),
    sa.Column("linked_incident_id", sa.String(64)),
    sa.Column("completed_by", sa.String(64)),
    sa.Column("completed_at", TS),
    # True once the matter is done (completed here, or its repair order returned).
    sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false()),
)

calls = sa.Table(
    "calls",
    metadata,
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

call_events = sa.Table(
    "call_events",
    metadata,
    sa.Column("call_id", sa.String(64), primary_key=True),
    sa.Column("event", sa.String(16), primary_key=True),
    sa.Column("switch_time", TS, nullable=False),
    sa.Column("received_at", TS, nullable=False),
    sa.Column("body", JSONB, nullable=False),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("customer_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(100)),
    sa.Column("address", sa.String(300)),
    sa.Column("address_key", sa.String(300)),
    sa.Column("area_code", sa.String(32)),
    sa.Column("meter_no", sa.String(32)),
    sa.Column("sensitive", sa.Boolean, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

customer_phones = sa.Table(
    "customer_phones",
    metadata,
    sa.Column("phone", sa.String(32), primary_key=True),
    sa.Column("customer_id", sa.String(64), primary_key=True),
)

number_flags = sa.Table(
    "number_flags",
    metadata,
    sa.Column("phone", sa.String(32), primary_key=True),
    sa.Column("harassing", sa.Boolean, nullable=False),
    sa.Column("marked_by", sa.String(64), nullable=False),
    sa.Column("marked_at", TS, nullable=False),
    sa.Column("escalation_id", sa.String(36)),
)

outages = sa.Table(
    "outages",
    metadata,
    sa.Column("incident_id", sa.String(64), primary_key=True),
    sa.Column("unit_id", sa.String(64)),
    sa.Column("area_codes", JSONB, nullable=False),
    sa.Column("ticket_ids", JSONB, nullable=False),
    sa.Column("expected_restore_at", TS),
    sa.Column("cause", sa.String(200)),
    sa.Column("declared_at", TS),
    sa.Column("restored_at", TS),
    sa.Column("active", sa.Boolean, nullable=False),
    # Meters under the faulty equipment: a repeat call links only from one of these.
    sa.Column("meter_nos", JSONB, nullable=False, server_default=sa.text("'[]'")),
    sa.Column("area_names", JSONB, nullable=False, server_default=sa.text("'[]'")),
    sa.Column("status", sa.String(16)),
)

work_orders = sa.Table(
    "work_orders",
    metadata,
    sa.Column("work_order_id", sa.String(64), primary_key=True),
    sa.Column("ticket_id", sa.String(36), nullable=False),
    sa.Column("unit_id", sa.String(64)),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("crew_id", sa.String(64)),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("arrive_by", TS),  # the arrival deadline, from the SLA monitor
)

escalations = sa.Table(
    "escalations",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("agent_id", sa.String(64), nullable=False),
    sa.Column("call_id", sa.String(64)),
    sa.Column("ticket_id", sa.String(36)),
    sa.Column("caller_number", sa.String(32)),
    sa.Column("note", sa.Text),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("requested_at", TS, nullable=False),
    sa.Column("supervisor_id", sa.String(64)),
    sa.Column("resolved_at", TS),
    sa.Column("resolution_reason", sa.Text),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", TS, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("ticket_id", sa.String(36)),
    sa.Column("escalation_id", sa.String(36)),
    sa.Column("details", JSONB, nullable=False),
)
