"""Contacts, callback tasks and their attempts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("ticket_type", sa.String(32), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("caller_name", sa.String(128), nullable=True),
        sa.Column("area_code", sa.String(32), nullable=True),
        sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "callback_tasks",
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
    )
    op.create_index(
        "ix_callback_tasks_rates", "callback_tasks", ["finished_day", "unit_id", "ticket_type"]
    )
    op.create_index(
        "ix_callback_tasks_open_due",
        "callback_tasks",
        ["due_at"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "callback_attempts",
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


def downgrade() -> None:
    op.drop_table("callback_attempts")
    op.drop_index("ix_callback_tasks_open_due", table_name="callback_tasks")
    op.drop_index("ix_callback_tasks_rates", table_name="callback_tasks")
    op.drop_table("callback_tasks")
    op.drop_table("contacts")
