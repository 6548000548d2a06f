"""The console's sign-in directory and chase log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from brightline.console.adapters.orm import chases, users
from brightline.console.domain.passwords import hash_password

# Demo directory: seeded when empty (ConsoleSettings.seed_demo_users). Password for all: "brightline".
DEMO_PASSWORD = "brightline"
DEMO_USERS = [
    ("agent-1001", "王晓丽", "1001", ["agent"]),
    ("agent-1002", "李明", "1002", ["agent"]),
    ("agent-1003", "张芳", "1003", ["agent"]),
    ("agent-1004", "陈静", "1004", ["agent"]),
    ("super-9001", "赵值班长", "9001", ["supervisor"]),
]


class UserDirectory:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def get(self, username: str):
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.username == username))).first()
        return row

    async def upsert(
        self, username: str, display_name: str, staff_no: str, roles: list[str], password: str
    ) -> None:
        values = {
            "display_name": display_name,
            "staff_no": staff_no,
            "roles": roles,
            "password_hash": hash_password(password),
            "extension": staff_no,
            "active": True,
        }
        async with self.engine.begin() as conn:
            exists = await conn.scalar(
                sa.select(sa.func.count()).where(users.c.username == username)
            )
            if exists:
                await conn.execute(
                    users.update().where(users.c.username == username).values(**values)
                )
            else:
                await conn.execute(
                    users.insert().values(username=username, created_at=datetime.now(UTC), **values)
                )

    async def seed_demo(self) -> int:
        async with self.engine.connect() as conn:
            count = await conn.scalar(sa.select(sa.func.count()).select_from(users))
        if count:
            return 0
        for username, name, staff_no, roles in DEMO_USERS:
            await self.upsert(username, name, staff_no, roles, DEMO_PASSWORD)
        return len(DEMO_USERS)

    async def add_chase(
        self,
        *,
        deadline_id: str,
        ticket_id: str | None,
        limit_key: str | None,
        supervisor: str,
        note: str | None,
    ) -> dict:
        row = {
            "id": str(uuid.uuid4()),
            "deadline_id": deadline_id,
            "ticket_id": ticket_id,
            "limit_key": limit_key,
            "supervisor": supervisor,
            "note": note,
            "at": datetime.now(UTC),
        }
        async with self.engine.begin() as conn:
            await conn.execute(chases.insert().values(**row))
        return row

    async def chases_for(self, deadline_ids: list[str]) -> dict[str, list[dict]]:
        if not deadline_ids:
            return {}
        async with self.engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        sa.select(chases)
                        .where(chases.c.deadline_id.in_(deadline_ids))
                        .order_by(chases.c.at)
                    )
                )
                .mappings()
                .all()
            )
        found: dict[str, list[dict]] = {}
        for r in rows:
            found.setdefault(r["deadline_id"], []).append(dict(r))
        return found
