"""The outbox's event ids lose their unique index: nothing looks a row up by its event id, and
each insert into it went to a random place of a B-tree
(brightline.messaging.schema.outbox_without_event_id_index_v2).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from brightline.messaging.schema import (
    outbox_with_event_id_index_v2,
    outbox_without_event_id_index_v2,
)

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    outbox_without_event_id_index_v2()


def downgrade() -> None:
    outbox_with_event_id_index_v2()
