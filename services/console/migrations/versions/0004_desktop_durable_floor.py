"""The durable floor: seats, calls, the agent's call draft, wrap-up codes, escalation outcomes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "floor_seats",
        sa.Column("agent_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("staff_no", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("answered_today", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reason", sa.String(32), nullable=True),
    )
    op.create_table(
        "floor_calls",
        sa.Column("call_id", sa.String(64), primary_key=True),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("rang_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("caller_number", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("offered_to", sa.String(64), nullable=True),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "desk_drafts",
        sa.Column("agent_id", sa.String(64), primary_key=True),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "wrap_ups",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("ready", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_wrap_ups_agent_id", "wrap_ups", ["agent_id"])
    op.create_table(
        "escalation_outcomes",
        sa.Column("escalation_id", sa.String(36), primary_key=True),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("supervisor_id", sa.String(64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("escalation_outcomes")
    op.drop_index("ix_wrap_ups_agent_id", table_name="wrap_ups")
    op.drop_table("wrap_ups")
    op.drop_table("desk_drafts")
    op.drop_table("floor_calls")
    op.drop_table("floor_seats")
