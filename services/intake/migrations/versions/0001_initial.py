"""Tickets, and the messaging tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from brightline.messaging.schema import create_messaging_tables_v1, drop_messaging_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables_v1()
    op.execute(sa.schema.CreateSequence(sa.Sequence("ticket_no_seq")))
    op.create_table(
        "tickets",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("no", sa.String(32), nullable=False, unique=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_ask_owner", sa.String(64), nullable=False, index=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("details", JSONB, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tickets")
    op.execute(sa.schema.DropSequence(sa.Sequence("ticket_no_seq")))
    drop_messaging_tables_v1()
