"""The timeline's lookups by call, by incident and by aggregate index only the entries they can
find: a call's and an incident's entries name it (`= x` never matches a null), and the lookup by
aggregate reads the entries that name no ticket (`AND ticket_id IS NULL`, the rest come by their
ticket). Every entry had a key in all three, nulls included: three B-tree inserts of every
entry (twelve a repair ticket) for entries no lookup of them could return.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PARTIAL = {
    "timeline_call": ("call_id", "call_id IS NOT NULL"),
    "timeline_incident": ("incident_id", "incident_id IS NOT NULL"),
    "timeline_aggregate": ("aggregate_id", "ticket_id IS NULL"),
}


def upgrade() -> None:
    for name, (column, where) in PARTIAL.items():
        op.drop_index(name, "timeline")
        op.execute(f"CREATE INDEX {name} ON timeline ({column}) WHERE {where}")


def downgrade() -> None:
    for name, (column, _) in PARTIAL.items():
        op.drop_index(name, "timeline")
        op.create_index(name, "timeline", [column])
