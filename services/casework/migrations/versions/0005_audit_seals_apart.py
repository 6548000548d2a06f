"""Audit seals apart from the rows they seal: the sealer inserts a narrow row per sealed audit
row (audit_seals) and takes it off a queue a trigger fills (audit_unsealed), instead of
updating the wide row, which PostgreSQL wrote whole again with all its index entries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from brightline.messaging.audit import seal_apart_v4, unseal_apart_v4

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    seal_apart_v4()


def downgrade() -> None:
    unseal_apart_v4()
