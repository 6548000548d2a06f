"""The SLA monitor's tables: durable deadlines, the input event log, calls and callback rates."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

deadlines = sa.Table(
    "deadlines",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("limit_key", sa.String(64), nullable=False),
    sa.Column("policy", sa.String(64), nullable=False),
    sa.Column("subject_type", sa.String(32), nullable=False),
    sa.Column("subject_id", sa.String(64), nullable=False),
    sa.Column("ticket_id", sa.String(64)),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("warn_at", sa.DateTime(timezone=True)),  # null when errored
    sa.Column("due_at", sa.DateTime(timezone=True)),
    # 0002: the promise as made (the limit snapshot), the clock's state and the scheduler's cursor
    sa.Column("limit_def", JSONB),
    sa.Column("unit_id", sa.String(64)),
    sa.Column("ticket_type", sa.String(32)),
    sa.Column("pauses", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("paused_since", sa.DateTime(timezone=True)),
    sa.Column("warned_at", sa.DateTime(timezone=True)),
    sa.Column("breached_at", sa.DateTime(timezone=True)),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Column("escalations_sent", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("met_on_time", sa.Boolean),
    sa.Column("cancel_reason", sa.String(200)),
    sa.Column("error", sa.Text),
    sa.Column("next_fire_at", sa.DateTime(timezone=True)),
    # 0003: counted weekends-only into an unknown year; a breach taken back by a late input
    sa.Column("provisional", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("breach_retracted_at", sa.DateTime(timezone=True)),
    # 0006: inputs that came after the deadline was settled, kept (never dropped silently)
    sa.Column("late_inputs", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    # 0004: not unique: a reopened case holds its reply limit twice (ids differ by round).
    sa.Index("ix_deadlines_subject_limit", "subject_type", "subject_id", "limit_key"),
)

# Every input the monitor acted on, in the order it acted: the history replay rebuilds from.
event_log = sa.Table(
    "event_log",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("event_id", sa.String(64), nullable=False, unique=True),
    sa.Column("event_type", sa.String(128), nullable=False),
    sa.Column("source", sa.String(128), nullable=False),
    sa.Column("subject", sa.String(128), nullable=False),
    sa.Column("time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("data", JSONB, nullable=False),
)


def _kpi_counts(name: str, *extra) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("limit_key", sa.String(64), nullable=False),
        sa.Column("unit_id", sa.String(64)),
        sa.Column("ticket_type", sa.String(32)),
        sa.Column("decided", sa.Integer, nullable=False),
        sa.Column("on_time", sa.Integer, nullable=False),
        *extra,
    )


# 0009: the deadlines decided (met or breached) and met on time, per minute of opening (UTC),
# limit key, unit and ticket type: what the on-time KPIs sum instead of the deadlines. Triggers on
# `deadlines` insert signed deltas in the statement that changes a state; KpiRepository.fold
# adds them into the counts, one row per key.
deadline_kpi_counts = _kpi_counts(
    "deadline_kpi_counts",
    sa.Index(
        "ux_deadline_kpi_counts_key",
        "minute",
        "limit_key",
        "unit_id",
        "ticket_type",
        unique=True,
        postgresql_nulls_not_distinct=True,
    ),
)
deadline_kpi_deltas = _kpi_counts("deadline_kpi_deltas")

calls = sa.Table(
    "calls",
    metadata,
    sa.Column("call_id", sa.String(64), primary_key=True),
    sa.Column("queue", sa.String(64)),
    sa.Column("rang_at", sa.DateTime(timezone=True)),
    sa.Column("answered_at", sa.DateTime(timezone=True)),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("cause", sa.String(32)),
    sa.Column("answer_delay_seconds", sa.Float),
)

# 0007: every planned outage (计划停电) registered, with whether its notice came too late (less
# than the pack's outage.planned.notice before it starts: a breach counted in the KPIs).
planned_outage_notices = sa.Table(
    "planned_outage_notices",
    metadata,
    sa.Column("planned_outage_id", sa.String(64), primary_key=True),
    sa.Column("unit_id", sa.String(64)),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("notice_required_days", sa.Float, nullable=False),
    sa.Column("notice_given_hours", sa.Float, nullable=False),
    sa.Column("notice_late", sa.Boolean, nullable=False),
    sa.Column("important_customers", sa.Integer, nullable=False),
    sa.Index("ix_planned_outage_notices_registered_at", "registered_at"),
)

callback_rates = sa.Table(
    "callback_rates",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("unit_id", sa.String(64), nullable=False),
    sa.Column("ticket_type", sa.String(32), nullable=False),
    sa.Column("finished", sa.Integer, nullable=False),
    sa.Column("called_back", sa.Integer, nullable=False),
    # 0014: tickets whose every attempt failed, for the month-end projection (kpis)
    sa.Column("attempted_unreached", sa.Integer, nullable=False, server_default="0"),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
)
