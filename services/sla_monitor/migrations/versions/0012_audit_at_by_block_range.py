"""The audit trail's index by time is a BRIN index (block ranges) instead of a B-tree entry per
row: the trail only grows, in time order (brightline.messaging.audit.at_by_block_range_v6).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from brightline.messaging.audit import at_by_block_range_v6, at_by_btree_v6

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    at_by_block_range_v6()


def downgrade() -> None:
    at_by_btree_v6()
