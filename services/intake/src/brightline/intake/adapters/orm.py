"""Intake's tables. The messaging tables (outbox, inbox, idempotency keys) are created by the
first migration from brightline.messaging.schema."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

ticket_no_seq = sa.Sequence("ticket_no_seq", metadata=metadata)

tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("no", sa.String(32), nullable=False, unique=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("first_ask_owner", sa.String(64), nullable=False, index=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("details", JSONB, nullable=False),
)
