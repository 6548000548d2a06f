"""console's tables: the sign-in directory and the supervisors' chase log. The console owns no
business data; tickets, orders and deadlines stay with their services."""

import sqlalchemy as sa

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("staff_no", sa.String(16), nullable=False),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("extension", sa.String(16), nullable=True),
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

chases = sa.Table(
    "chases",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("deadline_id", sa.String(64), nullable=False, index=True),
    sa.Column("ticket_id", sa.String(64), nullable=True),
    sa.Column("limit_key", sa.String(100), nullable=True),
    sa.Column("supervisor", sa.String(64), nullable=False),
    sa.Column("note", sa.String(500), nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
