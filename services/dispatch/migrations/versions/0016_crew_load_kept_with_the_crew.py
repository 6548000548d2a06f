"""A crew's open-order load is kept on its row, by triggers on the work orders, instead of being
counted on every new repair. Assignment read each crew's open orders from the partial index
(0010): cheap while a crew works on a handful, but a storm leaves crews hundreds of orders each,
and the count grew with them (24 crews at 780 open orders: 1-3 ms of server time a batch,
about 1 ms a ticket when the batches are small). The triggers are statement-level: one UPDATE
of the crews a statement moved, whatever its rows; the crews locked in crew_id order first, so
two transactions moving the same crews never wait for each other in a circle. A step that
keeps an order active on the same crew (accepted, en route, ...) touches no crew.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# The statuses of ACTIVE_FOR_CREW (brightline.dispatch.domain.model) as of this revision;
# tests/integration/test_dispatch_crew_load.py holds every status to it.
ACTIVE = ("assigned", "accepted", "en_route", "on_site", "resolved")
_ACTIVE = ", ".join(f"'{s}'" for s in ACTIVE)


def _active(rows: str) -> str:
    return f"ARRAY(SELECT crew_id FROM {rows} WHERE status IN ({_ACTIVE}))"


def upgrade() -> None:
    # No order may change between the count below and the triggers taking over.
    op.execute("LOCK TABLE work_orders IN SHARE ROW EXCLUSIVE MODE")
    op.add_column("crews", sa.Column("open_orders", sa.Integer, nullable=False, server_default="0"))
    op.execute(
        """
        CREATE FUNCTION crew_load_moves(gained text[], lost text[]) RETURNS void
        LANGUAGE plpgsql AS $$
        DECLARE
            moved text[];
            steps int[];
        BEGIN
            SELECT array_agg(crew_id ORDER BY crew_id), array_agg(step ORDER BY crew_id)
              INTO moved, steps
              FROM (SELECT crew_id, sum(step)::int AS step
                      FROM (SELECT unnest(gained) AS crew_id, 1 AS step
                            UNION ALL SELECT unnest(lost), -1) AS m
                     WHERE crew_id IS NOT NULL
                     GROUP BY crew_id
                    HAVING sum(step) <> 0) AS d;
            IF moved IS NULL THEN
                RETURN;
            END IF;
            PERFORM 1 FROM crews WHERE crew_id = ANY (moved) ORDER BY crew_id
                FOR NO KEY UPDATE;
            UPDATE crews SET open_orders = crews.open_orders + m.step
              FROM unnest(moved, steps) AS m(crew_id, step)
             WHERE crews.crew_id = m.crew_id;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION crew_load_follows_orders() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                PERFORM crew_load_moves({_active("new_orders")}, '{{}}');
            ELSIF TG_OP = 'UPDATE' THEN
                PERFORM crew_load_moves({_active("new_orders")}, {_active("old_orders")});
            ELSE
                PERFORM crew_load_moves('{{}}', {_active("old_orders")});
            END IF;
            RETURN NULL;
        END $$
        """
    )
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_orders"),
        ("UPDATE", "OLD TABLE AS old_orders NEW TABLE AS new_orders"),
        ("DELETE", "OLD TABLE AS old_orders"),
    ):
        op.execute(
            f"CREATE TRIGGER crew_load_after_{event.lower()} AFTER {event} ON work_orders "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION crew_load_follows_orders()"
        )
    op.execute(
        f"""
        UPDATE crews SET open_orders = load.orders
          FROM (SELECT crew_id, count(*) AS orders FROM work_orders
                 WHERE status IN ({_ACTIVE}) GROUP BY crew_id) AS load
         WHERE crews.crew_id = load.crew_id
        """
    )


def downgrade() -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER crew_load_after_{event} ON work_orders")
    op.execute("DROP FUNCTION crew_load_follows_orders()")
    op.execute("DROP FUNCTION crew_load_moves(text[], text[])")
    op.drop_column("crews", "open_orders")
