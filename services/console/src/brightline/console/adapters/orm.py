"""console's tables: web sessions (the identity provider's tokens, kept server-side), pending
sign-ins, and the supervisors' chase log. The console owns no business data; tickets, orders and
deadlines stay with their services."""

import sqlalchemy as sa

metadata = sa.MetaData()
TZ = sa.DateTime(timezone=True)

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    # sha256 of the cookie's value: a stolen database row does not open a session.
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String(255), nullable=False, index=True),
    sa.Column("access_token", sa.Text, nullable=False),
    sa.Column("refresh_token", sa.Text, nullable=True),
    sa.Column("id_token", sa.Text, nullable=True),
    sa.Column("access_expires_at", TZ, nullable=False),
    sa.Column("refresh_expires_at", TZ, nullable=True),
    sa.Column("created_at", TZ, nullable=False),
)

oidc_logins = sa.Table(
    "oidc_logins",
    metadata,
    sa.Column("state", sa.String(64), primary_key=True),
    sa.Column("code_verifier", sa.String(128), nullable=False),
    sa.Column("nonce", sa.String(64), nullable=False),
    sa.Column("next_path", sa.String(500), nullable=False),
    sa.Column("created_at", TZ, nullable=False),
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
