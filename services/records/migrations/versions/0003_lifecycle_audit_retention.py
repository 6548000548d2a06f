"""The audit trail (append-only, hash-chained: brightline.messaging.audit) and the indexes the
retention job reads (brightline.messaging.retention).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from brightline.messaging.audit import create_audit_table_v1, drop_audit_table_v1
from brightline.messaging.retention import create_retention_indexes_v1, drop_retention_indexes_v1

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_table_v1()
    create_retention_indexes_v1()


def downgrade() -> None:
    drop_retention_indexes_v1()
    drop_audit_table_v1()
