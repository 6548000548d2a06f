"""The agent's open queue: `GET /tickets?owner=…&open=true` (TicketRepository.list with
open_only) filters on the current owner and the open statuses and reads the newest 200 by
recorded_at. A partial index in exactly that shape lets it read 200 index entries instead of
every row the agent ever owned; the plain owner index gives way to (owner, recorded_at DESC),
which serves the same equality lookups and also the unfiltered list's order.

The predicate must stay the literal list TicketRepository.list writes (OPEN_STATUSES), or the
planner cannot prove the query implies it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_tickets_owner_open ON tickets (owner, recorded_at DESC) "
        "WHERE status IN ('recorded', 'reopened')"
    )
    op.execute("CREATE INDEX ix_tickets_owner_recorded_at ON tickets (owner, recorded_at DESC)")
    op.drop_index("ix_tickets_owner", "tickets")


def downgrade() -> None:
    op.create_index("ix_tickets_owner", "tickets", ["owner"])
    op.drop_index("ix_tickets_owner_recorded_at", "tickets")
    op.drop_index("ix_tickets_owner_open", "tickets")
