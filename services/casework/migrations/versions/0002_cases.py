"""Cases, their history, departments, the confidential contact table and its read audit,
deadlines learnt from the SLA monitor, reminders (催办) and escalations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("case_types", JSONB, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("ticket_id", sa.String(64), nullable=False, unique=True),
        sa.Column("ticket_no", sa.String(64)),
        sa.Column("case_type", sa.String(16), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_ask_owner", sa.String(128), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("transfer_due", sa.DateTime(timezone=True)),
        sa.Column("complaint_subtype", sa.String(32)),
        sa.Column("complaint_grade", sa.String(16)),
        sa.Column("anonymous", sa.Boolean, nullable=False),
        sa.Column("reported_party", sa.String(200)),
        sa.Column("department_id", sa.String(64), index=True),
        sa.Column("reply_text", sa.Text),
        sa.Column("answer_text", sa.Text),
        sa.Column("reopen_count", sa.Integer, nullable=False),
    )
    op.create_table(
        "case_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16)),
        sa.Column("department_id", sa.String(64)),
        sa.Column("note", sa.Text),
    )
    op.create_table(
        "case_contacts",
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("caller_name_enc", sa.Text),
        sa.Column("phone_enc", sa.Text),
        sa.Column("address_enc", sa.Text),
        sa.Column("customer_id_enc", sa.Text),
    )
    op.create_table(
        "confidential_reads",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False, index=True),
        sa.Column("reader", sa.String(128), nullable=False),
        sa.Column("roles", JSONB, nullable=False),
        sa.Column("department_id", sa.String(64)),
        sa.Column("fields", JSONB, nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "case_deadlines",
        sa.Column("deadline_id", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False, index=True),
        sa.Column("limit_key", sa.String(64), nullable=False),
        sa.Column("policy_pack", sa.String(64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True)),
        sa.Column("warn_at", sa.DateTime(timezone=True)),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
    )
    op.create_table(
        "reminders",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False, index=True),
        sa.Column("deadline_id", sa.String(64), nullable=False, unique=True),
        sa.Column("limit_key", sa.String(64), nullable=False),
        sa.Column("department_id", sa.String(64), index=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notify", JSONB, nullable=False),
    )
    op.create_table(
        "escalations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), nullable=False, index=True),
        sa.Column("deadline_id", sa.String(64), nullable=False),
        sa.Column("limit_key", sa.String(64), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("department_id", sa.String(64)),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notify", JSONB, nullable=False),
        sa.UniqueConstraint("deadline_id", "level", name="uq_escalations_deadline_level"),
    )


def downgrade() -> None:
    op.drop_table("escalations")
    op.drop_table("reminders")
    op.drop_table("case_deadlines")
    op.drop_table("confidential_reads")
    op.drop_table("case_contacts")
    op.drop_table("case_history")
    op.drop_table("cases")
    op.drop_table("departments")
