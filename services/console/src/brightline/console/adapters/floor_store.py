"""The floor in the console's database. Every change runs as load → pure domain step → save in
one transaction under one advisory lock, so two console replicas (or a restart) never split
or lose the floor; the pure `Floor` keeps every rule. The floor is small (seats of one centre,
calls ringing or talking), so loading it whole is cheaper than being clever.

Replicas tell each other that something changed through PostgreSQL's LISTEN/NOTIFY: the
notices a step produced go out on one channel (committed with the step), and every replica
hands them to its own browsers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

if TYPE_CHECKING:
    import asyncpg

from brightline.console.adapters.orm import desk_presence, floor_calls, floor_seats
from brightline.console.domain.floor import Floor, LiveCall, Notice, Seat

log = logging.getLogger(__name__)

# One fixed key for pg_advisory_xact_lock: "the floor" (any 64-bit number nobody else uses).
FLOOR_LOCK = 0x95598_F1008
CHANNEL = "console_floor"


async def load(conn: AsyncConnection, zone: tzinfo) -> Floor:
    floor = Floor(zone=zone)
    for row in (await conn.execute(sa.select(floor_seats))).mappings():
        floor.seats[row["agent_id"]] = Seat(**dict(row))
    for row in (await conn.execute(sa.select(floor_calls))).mappings():
        floor.calls[row["call_id"]] = LiveCall(**dict(row))
    return floor


def _rows(floor: Floor) -> tuple[dict[str, dict], dict[str, dict]]:
    return (
        {k: asdict(v) for k, v in floor.seats.items()},
        {k: asdict(v) for k, v in floor.calls.items()},
    )


async def save(
    conn: AsyncConnection, floor: Floor, before: tuple[dict[str, dict], dict[str, dict]]
) -> None:
    """Write only the rows the step changed."""
    seats, calls = _rows(floor)
    old_seats, old_calls = before
    for agent_id, row in seats.items():
        if old_seats.get(agent_id) == row:
            continue
        if agent_id in old_seats:
            await conn.execute(
                floor_seats.update().where(floor_seats.c.agent_id == agent_id).values(**row)
            )
        else:
            await conn.execute(floor_seats.insert().values(**row))
    gone = [c for c in old_calls if c not in calls]
    if gone:
        await conn.execute(floor_calls.delete().where(floor_calls.c.call_id.in_(gone)))
    for call_id, row in calls.items():
        if old_calls.get(call_id) == row:
            continue
        if call_id in old_calls:
            await conn.execute(
                floor_calls.update().where(floor_calls.c.call_id == call_id).values(**row)
            )
        else:
            await conn.execute(floor_calls.insert().values(**row))


class FloorStore:
    """`async with store.change() as step:` gives the floor under the lock; `step.notices`
    collects what to tell browsers (sent to every replica on commit)."""

    def __init__(self, engine: AsyncEngine, zone: tzinfo) -> None:
        self.engine = engine
        self.zone = zone  # the centre's business timezone: where its day turns
        self.origin = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._listener: asyncpg.Connection | None = None
        self._on_remote: Callable[[list[Notice]], None] | None = None

    async def read(self) -> Floor:
        async with self.engine.connect() as conn:
            return await load(conn, self.zone)

    @contextlib.asynccontextmanager
    async def change(self) -> AsyncIterator[Step]:
        async with self.engine.begin() as conn:
            await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(FLOOR_LOCK)))
            floor = await load(conn, self.zone)
            step = Step(floor)
            before = _rows(floor)
            yield step
            await save(conn, floor, before)
            if step.notices:
                payload = json.dumps(
                    {
                        "origin": self.origin,
                        "notices": [
                            {"kind": n.kind, "data": n.data, "target": n.target}
                            for n in step.notices
                        ],
                    },
                    ensure_ascii=False,
                    default=str,
                )
                if len(payload.encode()) < 7900:  # NOTIFY's payload limit is 8000 bytes
                    await conn.execute(sa.select(sa.func.pg_notify(CHANNEL, payload)))
                else:  # too big to carry: tell the others to refresh their views
                    await conn.execute(
                        sa.select(
                            sa.func.pg_notify(
                                CHANNEL,
                                json.dumps(
                                    {
                                        "origin": self.origin,
                                        "notices": [{"kind": "queues", "data": {}, "target": None}],
                                    }
                                ),
                            )
                        )
                    )

    # ------------------------------------------------------------ desks seen
    async def mark_seen(self, agent_ids: list[str], now: datetime) -> None:
        """These agents' desks are there now (one statement, without the floor's lock: a later
        time never goes back)."""
        if not agent_ids:
            return
        statement = insert(desk_presence).values(
            # Once each (twice is an error of ON CONFLICT), in one order (no deadlock between
            # replicas marking the same agents).
            [{"agent_id": a, "seen_at": now} for a in sorted(set(agent_ids))]
        )
        statement = statement.on_conflict_do_update(
            index_elements=[desk_presence.c.agent_id],
            set_={"seen_at": sa.func.greatest(desk_presence.c.seen_at, statement.excluded.seen_at)},
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    async def last_seen(self) -> dict[str, datetime]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(sa.select(desk_presence.c.agent_id, desk_presence.c.seen_at))
            return {agent_id: seen_at for agent_id, seen_at in rows}

    # ------------------------------------------------------------ replicas tell each other
    async def listen(self, on_remote: Callable[[list[Notice]], None]) -> None:
        import asyncpg

        self._on_remote = on_remote
        url = make_url(self.engine.url.render_as_string(hide_password=False))
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            listener = self._listener = await asyncpg.connect(dsn)
            await listener.add_listener(CHANNEL, self._notified)
        except Exception:  # the floor still works; other replicas' browsers refresh by polling
            log.exception("cannot LISTEN for floor changes of other console replicas")
            self._listener = None

    def _notified(self, _conn, _pid, _channel, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if message.get("origin") == self.origin or self._on_remote is None:
            return
        self._on_remote([Notice(n["kind"], n["data"], n.get("target")) for n in message["notices"]])

    async def close(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._listener.close(), 5)


class Step:
    def __init__(self, floor: Floor) -> None:
        self.floor = floor
        self.notices: list[Notice] = []

    def add(self, notices: list[Notice]) -> None:
        self.notices.extend(notices)
