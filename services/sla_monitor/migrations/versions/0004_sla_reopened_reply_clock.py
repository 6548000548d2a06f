"""A subject may hold the same limit more than once: a reopened complaint's new reply clock
(issue 15 point 8) beside the one met at the first answer. The deterministic id
(deadline_id_for: subject, limit and round) keeps a replayed cause from opening a clock twice,
so the uniqueness moves from (subject, limit) to the primary key; the lookup index stays.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("uq_deadline_subject_limit", "deadlines", type_="unique")
    op.create_index(
        "ix_deadlines_subject_limit", "deadlines", ["subject_type", "subject_id", "limit_key"]
    )


def downgrade() -> None:
    op.drop_index("ix_deadlines_subject_limit", "deadlines")
    op.create_unique_constraint(
        "uq_deadline_subject_limit", "deadlines", ["subject_type", "subject_id", "limit_key"]
    )
