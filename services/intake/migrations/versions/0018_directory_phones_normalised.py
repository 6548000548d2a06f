"""The directory's phones normalised: caller cards now look a number up in its normal form
(digits only, no +86; brightline.platform.phones), and imports store it so. A phone stored
as the customer system wrote it ("+86 138-1111-0002", "0571-8888-0002") is rewritten in that
form, or it would stop matching the calls it matched; one without digits ("abc") never named a
caller and goes. Only the rows not already in that form are read and written.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from brightline.platform.phones import normalise_phone

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT customer_id, phone FROM customer_phones "
            "WHERE phone !~ '^[0-9]+$' OR phone LIKE '86%' OR phone LIKE '0086%'"
        )
    ).all()
    changed = [(r.customer_id, r.phone, normalise_phone(r.phone)) for r in rows]
    changed = [c for c in changed if c[1] != c[2]]
    if not changed:
        return
    bind.execute(
        sa.text("DELETE FROM customer_phones WHERE customer_id = :customer_id AND phone = :phone"),
        [{"customer_id": c, "phone": p} for c, p, _ in changed],
    )
    # Two spellings of one number of a customer become one row.
    kept = {(c, n) for c, _, n in changed if n}
    if kept:
        bind.execute(
            sa.text(
                "INSERT INTO customer_phones (customer_id, phone) VALUES (:customer_id, :phone) "
                "ON CONFLICT DO NOTHING"
            ),
            [{"customer_id": c, "phone": n} for c, n in sorted(kept)],
        )


def downgrade() -> None:
    # The spellings given are not kept; normalised numbers are still numbers.
    pass
