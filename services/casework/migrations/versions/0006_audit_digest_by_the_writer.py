"""Audit rows carry their writer's digest of their content, queued with them for the sealer,
which no longer reads and hashes each row in PostgreSQL; the trail's JSON columns keep the text
the writer hashed (json, not jsonb).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from brightline.messaging.audit import digest_by_the_writer_v5, undigest_by_the_writer_v5

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    digest_by_the_writer_v5()


def downgrade() -> None:
    undigest_by_the_writer_v5()
