"""Durable timers (deadline state, scheduler cursor), input event log, calls, callback rates.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("deadlines", "warn_at", nullable=True)
    op.alter_column("deadlines", "due_at", nullable=True)
    for column in (
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
    ):
        op.add_column("deadlines", column)
    # The scheduler's query: due rows only, so the index stays as small as the open work.
    op.create_index(
        "ix_deadlines_next_fire_at",
        "deadlines",
        ["next_fire_at"],
        postgresql_where=sa.text("next_fire_at IS NOT NULL"),
    )
    op.create_index("ix_deadlines_ticket_id", "deadlines", ["ticket_id"])
    op.create_index("ix_deadlines_opened_at", "deadlines", ["opened_at"])
    op.create_table(
        "event_log",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", JSONB, nullable=False),
    )
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(64), primary_key=True),
        sa.Column("queue", sa.String(64)),
        sa.Column("rang_at", sa.DateTime(timezone=True)),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("cause", sa.String(32)),
        sa.Column("answer_delay_seconds", sa.Float),
    )
    op.create_index("ix_calls_rang_at", "calls", ["rang_at"])
    op.create_table(
        "callback_rates",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=False),
        sa.Column("ticket_type", sa.String(32), nullable=False),
        sa.Column("finished", sa.Integer, nullable=False),
        sa.Column("called_back", sa.Integer, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("callback_rates")
    op.drop_table("calls")
    op.drop_table("event_log")
    op.drop_index("ix_deadlines_opened_at", "deadlines")
    op.drop_index("ix_deadlines_ticket_id", "deadlines")
    op.drop_index("ix_deadlines_next_fire_at", "deadlines")
    for name in (
        "limit_def",
        "unit_id",
        "ticket_type",
        "pauses",
        "paused_since",
        "warned_at",
        "breached_at",
        "closed_at",
        "escalations_sent",
        "met_on_time",
        "cancel_reason",
        "error",
        "next_fire_at",
    ):
        op.drop_column("deadlines", name)
