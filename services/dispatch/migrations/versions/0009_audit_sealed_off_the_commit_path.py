"""The audit trail sealed off the commit path: rows are inserted unsealed, in the unit of work's
last round trip and under no lock, and chained about a second later by the sealer
(brightline.messaging.audit.AuditSealer); the trigger allows only that one UPDATE.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from brightline.messaging.audit import seal_off_the_commit_path_v2, unseal_v2

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    seal_off_the_commit_path_v2()


def downgrade() -> None:
    unseal_v2()
