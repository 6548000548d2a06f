"""callback's tables; the first migration creates the messaging tables beside them."""

import sqlalchemy as sa

metadata = sa.MetaData()

# Who to call back, learnt from intake's TicketRecordedV1. Only what a callback needs.
contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("ticket_id", sa.String(64), primary_key=True),
    sa.Column("ticket_type", sa.String(32), nullable=True),
    sa.Column("phone", sa.String(32), nullable=True),
    sa.Column("caller_name", sa.String(128), nullable=True),
    sa.Column("area_code", sa.String(32), nullable=True),
    sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
    # When the customer called (the day the callback names), from intake's record.
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
)

callback_tasks = sa.Table(
    "callback_tasks",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("ticket_id", sa.String(64), nullable=False, index=True),
    sa.Column("ticket_type", sa.String(32), nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("unit_id", sa.String(64), nullable=False),
    sa.Column("incident_id", sa.String(64), nullable=True, index=True),
    sa.Column("finish_ref", sa.String(200), nullable=False, unique=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_day", sa.Date, nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("callable", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(32), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("customer_words", sa.Text, nullable=True),
    sa.Column("agent_id", sa.String(64), nullable=True),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("lease_holder", sa.String(64), nullable=True),
    sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
    # An outage batch tells every linked customer power is back; it is no callback (no outcome).
    sa.Column("restoration_notice_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("restoration_notice_by", sa.String(64), nullable=True),
    # The handling result the callback states (the answer given, the repair's resolution).
    sa.Column("result", sa.Text, nullable=True),
    sa.Index("ix_callback_tasks_rates", "finished_day", "unit_id", "ticket_type"),
    sa.Index("ix_callback_tasks_open_due", "due_at", postgresql_where=sa.text("status = 'open'")),
)

# Every call made, with the customer's words (回访记录).
callback_attempts = sa.Table(
    "callback_attempts",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column(
        "task_id", sa.String(36), sa.ForeignKey("callback_tasks.id"), nullable=False, index=True
    ),
    sa.Column("attempt_no", sa.Integer, nullable=False),
    sa.Column("agent_id", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("customer_words", sa.Text, nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("task_id", "attempt_no"),
)
