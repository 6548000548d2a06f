"""The read model: one row per ticket (search), its timeline entries, incident links, and the
audit of confidential reads. Owned by records alone; rebuilt from Kafka at will."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = sa.MetaData()

tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("ticket_id", sa.Text, primary_key=True),
    sa.Column("ticket_no", sa.Text),
    sa.Column("ticket_type", sa.Text),
    sa.Column("recorded_at", sa.DateTime(timezone=True)),
    sa.Column("first_ask_owner", sa.Text),
    sa.Column("call_id", sa.Text),
    sa.Column("customer_id", sa.Text),
    sa.Column("caller_name", sa.Text),
    sa.Column("phone", sa.Text),
    sa.Column("phone_norm", sa.Text),
    sa.Column("address", sa.Text),
    sa.Column("area_code", sa.Text),
    sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("reported_party", sa.Text),
    sa.Column("reported_party_norm", sa.Text),
    sa.Column("linked_ticket_id", sa.Text),
    sa.Column("name_grams", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("address_grams", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("status", sa.Text),
    sa.Column("status_at", sa.DateTime(timezone=True)),
    sa.Column("status_event", sa.Text),
    sa.Column("owner", sa.Text),
    sa.Column("owner_at", sa.DateTime(timezone=True)),
    sa.Column("owner_event", sa.Text),
    sa.Column("unit_id", sa.Text),
    sa.Column("unit_at", sa.DateTime(timezone=True)),
    sa.Column("unit_event", sa.Text),
    sa.Column("department_id", sa.Text),
    sa.Column("department_at", sa.DateTime(timezone=True)),
    sa.Column("department_event", sa.Text),
    sa.Column("has_breached", sa.Boolean, nullable=False, server_default=sa.false()),
)

timeline = sa.Table(
    "timeline",
    metadata,
    sa.Column("entry_id", sa.Text, primary_key=True),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("aggregate_id", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("ticket_id", sa.Text),
    sa.Column("call_id", sa.Text),
    sa.Column("incident_id", sa.Text),
    sa.Column("data", JSONB, nullable=False),
)

ticket_incidents = sa.Table(
    "ticket_incidents",
    metadata,
    sa.Column("ticket_id", sa.Text, primary_key=True),
    sa.Column("incident_id", sa.Text, primary_key=True),
)

confidential_reads = sa.Table(
    "confidential_reads",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("ticket_id", sa.Text, nullable=False),
    sa.Column("reader", sa.Text, nullable=False),
    sa.Column("roles", ARRAY(sa.Text), nullable=False),
    sa.Column("department_id", sa.Text),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("granted", sa.Boolean, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
