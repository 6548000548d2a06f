"""Two indexes of tickets that no query reads, dropped: first_ask_owner (0001; the queues read
by the current owner, 0003) and area_code (0002; an area's outages are found in the outages
tables, a planned one by its own area codes). Every new ticket wrote an entry into each.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UNREAD = ("first_ask_owner", "area_code")


def upgrade() -> None:
    for column in UNREAD:
        op.drop_index(f"ix_tickets_{column}", table_name="tickets")


def downgrade() -> None:
    for column in UNREAD:
        op.create_index(f"ix_tickets_{column}", "tickets", [column])
