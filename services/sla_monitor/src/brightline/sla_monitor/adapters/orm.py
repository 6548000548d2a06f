"""The SLA monitor's tables: durable deadlines."""

import sqlalchemy as sa

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
    sa.Column("warn_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("subject_type", "subject_id", "limit_key", name="uq_deadline_subject_limit"),
)
