"""Sign-in moves to the identity provider: the user directory goes; web sessions (tokens kept
server-side behind an HttpOnly cookie) and pending authorization-code logins come.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.drop_table("users")
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(255), nullable=False, index=True),
        sa.Column("access_token", sa.Text, nullable=False),
        sa.Column("refresh_token", sa.Text, nullable=True),
        sa.Column("id_token", sa.Text, nullable=True),
        sa.Column("access_expires_at", TZ, nullable=False),
        sa.Column("refresh_expires_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "oidc_logins",
        sa.Column("state", sa.String(64), primary_key=True),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("next_path", sa.String(500), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("oidc_logins")
    op.drop_table("web_sessions")
    op.create_table(
        "users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("staff_no", sa.String(16), nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("extension", sa.String(16), nullable=True),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", TZ, nullable=False),
    )
