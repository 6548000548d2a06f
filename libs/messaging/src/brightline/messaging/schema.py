"""Tables every service carries beside its business tables: outbox, inbox, idempotency keys.

They live in each service's own database and are written in the same transaction as the
business rows, which is the whole point.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

outbox = sa.Table(
    "outbox",
    metadata,
    # The sequence gives the publishing order; one relay at a time keeps it per key.
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    # Not unique in the database since v2 (outbox_without_event_id_index_v2): nothing looks a
    # row up by it, and ids are drawn fresh for every event.
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("topic", sa.String(200), nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("data", JSONB, nullable=False),
    sa.Column("traceparent", sa.String(128)),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
)
sa.Index("ix_outbox_unpublished", outbox.c.id, postgresql_where=outbox.c.published_at.is_(None))

inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("consumer", sa.String(100), primary_key=True),
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column(
        "processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("scope", sa.String(100), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("body", JSONB, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)


def create_messaging_tables_v1() -> None:
    """Called from each service's first Alembic migration. Frozen: a change is a new function
    and a new migration, never an edit here (old migrations must replay identically)."""
    from alembic import op

    bind = op.get_bind()
    metadata.create_all(bind, tables=[outbox, inbox, idempotency_keys])
    # v1's outbox had its event ids unique (the table's column said so then).
    op.create_unique_constraint("outbox_event_id_key", "outbox", ["event_id"])


def drop_messaging_tables_v1() -> None:
    from alembic import op

    metadata.drop_all(op.get_bind(), tables=[idempotency_keys, inbox, outbox])


def outbox_without_event_id_index_v2() -> None:
    """The outbox's event ids are no longer unique in an index of their own: nothing looks a row
    up by its event id (the relay reads by `id`, retention by `published_at`), every event's id
    is drawn fresh (brightline.contracts.ids), and a consumer's inbox absorbs an event delivered
    twice whatever its outbox held. The index cost every event written an insert into a B-tree
    (three or four a repair ticket across the services; at a random place while ids were
    uuid4). Frozen, like create_messaging_tables_v1."""
    from alembic import op

    op.drop_constraint("outbox_event_id_key", "outbox", type_="unique")


def outbox_with_event_id_index_v2() -> None:
    """Back to v1 (fails if two rows share an event id meanwhile, which no writer makes)."""
    from alembic import op

    op.create_unique_constraint("outbox_event_id_key", "outbox", ["event_id"])
