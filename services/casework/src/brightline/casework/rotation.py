"""Contact key rotation: put the new key first in CASEWORK_CONTACT_KEY (old keys after it), run
`python -m brightline.casework rotate-contact-key`, then drop the old keys."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from brightline.casework.adapters.orm import case_contacts
from brightline.casework.adapters.vault import ContactVault
from brightline.casework.settings import CaseworkSettings
from brightline.platform.db import create_engine, database_url, server_url

SEALED = ("caller_name_enc", "phone_enc", "address_enc", "customer_id_enc")


async def rotate_all(settings: CaseworkSettings, *, batch: int = 500) -> int:
    """Re-seal every contact with the newest key; how many rows were rewritten."""
    vault = ContactVault(settings.contact_key.get_secret_value(), seal_as=settings.seal_format)
    engine = create_engine(
        database_url(server_url(settings.database_url), settings.database_name), pool_size=2
    )
    done = 0
    try:
        last = ""
        while True:
            async with engine.begin() as conn:
                rows = (
                    await conn.execute(
                        sa.select(case_contacts)
                        .where(case_contacts.c.case_id > last)
                        .order_by(case_contacts.c.case_id)
                        .limit(batch)
                        .with_for_update()
                    )
                ).all()
                for row in rows:
                    await conn.execute(
                        case_contacts.update()
                        .where(case_contacts.c.case_id == row.case_id)
                        .values({c: vault.rotate(getattr(row, c)) for c in SEALED})
                    )
            if not rows:
                return done
            done += len(rows)
            last = rows[-1].case_id
    finally:
        await engine.dispose()


def rotate_contact_key(settings: CaseworkSettings) -> None:
    print(f"re-encrypted {asyncio.run(rotate_all(settings))} contacts with the newest key")
