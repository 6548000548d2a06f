"""casework's tables; the first migration creates the messaging tables beside them.

The reporter's identity and contact live in `case_contacts`, apart from the case and encrypted
field by field; events never carry them. Every read of them leaves a row in `confidential_reads`.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

departments = sa.Table(
    "departments",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("case_types", JSONB, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
)

cases = sa.Table(
    "cases",
    metadata,
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

case_history = sa.Table(
    "case_history",
    metadata,
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

case_contacts = sa.Table(
    "case_contacts",
    metadata,
    sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), primary_key=True),
    sa.Column("caller_name_enc", sa.Text),
    sa.Column("phone_enc", sa.Text),
    sa.Column("address_enc", sa.Text),
    sa.Column("customer_id_enc", sa.Text),
)

confidential_reads = sa.Table(
    "confidential_reads",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("case_id", sa.String(36), nullable=False, index=True),
    sa.Column("reader", sa.String(128), nullable=False),
    sa.Column("roles", JSONB, nullable=False),
    sa.Column("department_id", sa.String(64)),
    sa.Column("fields", JSONB, nullable=False),
    sa.Column("granted", sa.Boolean, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

case_deadlines = sa.Table(
    "case_deadlines",
    metadata,
    sa.Column("deadline_id", sa.String(64), primary_key=True),
    sa.Column("case_id", sa.String(36), nullable=False, index=True),
    sa.Column("limit_key", sa.String(64), nullable=False),
    sa.Column("policy_pack", sa.String(64), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True)),
    sa.Column("warn_at", sa.DateTime(timezone=True)),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
)

reminders = sa.Table(
    "reminders",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("case_id", sa.String(36), nullable=False, index=True),
    sa.Column("deadline_id", sa.String(64), nullable=False, unique=True),
    sa.Column("limit_key", sa.String(64), nullable=False),
    sa.Column("department_id", sa.String(64), index=True),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("warned_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("notify", JSONB, nullable=False),
)

escalations = sa.Table(
    "escalations",
    metadata,
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
