"""The on-time KPIs come from per-minute counts the deadlines' triggers keep (migration 0009), not
from the deadlines: the counts always agree with a full recount of the deadlines, whatever
opened, met, breached, was retracted, cancelled or deleted, folded or not; and the sums read a
number of rows that does not grow with the number of deadlines."""

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from brightline.platform.testing import running
from brightline.sla_monitor import kpis, metrics
from brightline.sla_monitor.adapters.orm import deadline_kpi_counts, deadline_kpi_deltas, deadlines
from brightline.sla_monitor.adapters.repository import KpiRepository
from brightline.sla_monitor.main import create_app
from brightline.sla_monitor.settings import SlaMonitorSettings

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Shanghai")
DAY_START = datetime(2025, 3, 4, tzinfo=TZ)
KEYS = ["repair.arrival.urban", "repair.arrival.rural", "complaint.reply", "report.reply"]
KEYS_ELSEWHERE = ["callback.window", "repair_arrival_x"]


@pytest.fixture
async def runtime(infra_env, db_name):
    settings = SlaMonitorSettings(
        database_name=db_name("sla"), scheduler_enabled=False, kpi_refresh_seconds=3600, **infra_env
    )
    app = create_app(settings)
    async with running(app):
        yield app.state.runtime


def opened(rng: random.Random, minutes: int) -> datetime:
    """A moment in one of the first `minutes` minutes of the day, or either side of midnight."""
    at = DAY_START + timedelta(seconds=rng.randint(-90, minutes * 60 - 1) + rng.random())
    return at.astimezone(UTC)


def deadline(i: int, rng: random.Random, minutes: int, prefix: str = "d") -> dict:
    return dict(
        id=f"{prefix}{i}",
        limit_key=rng.choice(KEYS + KEYS_ELSEWHERE),
        policy="seed@1",
        subject_type="work_order",
        subject_id=f"s{prefix}{i}",
        ticket_id=f"t{prefix}{i}",
        state="open",
        opened_at=opened(rng, minutes),
        unit_id=rng.choice(["U1", "U2", None]),
        ticket_type=rng.choice(["repair", "complaint", None]),
    )


# The life of a deadline as the repository writes it: an executemany of the changing columns.
CHANGE = (
    deadlines.update()
    .where(deadlines.c.id == sa.bindparam("v_id"))
    .values(state=sa.bindparam("v_state"), met_on_time=sa.bindparam("v_met_on_time"))
)


async def change(runtime, rows: list[dict], state: str, met_on_time: bool | None) -> None:
    async with runtime.engine.begin() as conn:
        await conn.execute(
            CHANGE,
            [{"v_id": r["id"], "v_state": state, "v_met_on_time": met_on_time} for r in rows],
        )
    for r in rows:
        r.update(state=state, met_on_time=met_on_time)


RECOUNT = sa.text(
    """
SELECT date_trunc('minute', opened_at, 'UTC') AS minute, limit_key, unit_id, ticket_type,
       count(*) AS decided, count(*) FILTER (WHERE state = 'met' AND met_on_time) AS on_time
FROM deadlines WHERE state IN ('met', 'breached')
GROUP BY 1, 2, 3, 4
"""
)


async def counted(runtime) -> dict[tuple, tuple[int, int]]:
    """The counts and deltas summed per key, keys netting to nothing left out."""
    both = sa.union_all(sa.select(deadline_kpi_counts), sa.select(deadline_kpi_deltas)).subquery()
    key = (both.c.minute, both.c.limit_key, both.c.unit_id, both.c.ticket_type)
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(*key, sa.func.sum(both.c.decided), sa.func.sum(both.c.on_time)).group_by(*key)
        )
        got = {tuple(r[:4]): (int(r[4]), int(r[5])) for r in rows if r[4] or r[5]}
        want = {tuple(r[:4]): (r[4], r[5]) for r in await conn.execute(RECOUNT)}
    assert got == want
    return got


async def sums(session, start: datetime, end: datetime, group_by: str) -> list[kpis.KpiRow]:
    found = await KpiRepository(session).sums(
        start=start,
        end=end,
        first_day=start.astimezone(TZ).date(),
        last_day=(end - timedelta(microseconds=1)).astimezone(TZ).date(),
        group_by=group_by,
        tz=TZ.key,
        answer_threshold_s=12.0,
    )
    return kpis.rows_from_sums(found)


async def fold(runtime) -> None:
    async with runtime.unit_of_work() as uow:
        await KpiRepository(uow.session).fold()
        await uow.commit()


async def test_the_counts_agree_with_a_full_recount_through_a_deadlines_life(runtime):
    rng = random.Random(21)
    rows = [deadline(i, rng, minutes=30) for i in range(600)]
    async with runtime.engine.begin() as conn:
        await conn.execute(deadlines.insert(), rows)
    # inserted already decided (a restore, a test's facts): counted on insert
    settled = [deadline(i, rng, minutes=30, prefix="x") for i in range(40)]
    for r in settled:
        r.update(state=rng.choice(["met", "breached"]), met_on_time=rng.choice([True, None]))
    async with runtime.engine.begin() as conn:
        await conn.execute(deadlines.insert(), settled)
    rows += settled
    await counted(runtime)

    rng.shuffle(rows)
    fresh = [r for r in rows if r["state"] == "open"]
    met, breached, late = fresh[:150], fresh[150:300], fresh[300:360]
    await change(runtime, met, "met", True)
    await change(runtime, late, "met", False)
    await change(runtime, breached, "breached", None)
    assert await counted(runtime)
    await fold(runtime)
    await counted(runtime)
    # a breach retracted (met in time after all), a breach met late, breaches cancelled
    await change(runtime, breached[:40], "met", True)
    await change(runtime, breached[40:70], "met", False)
    await change(runtime, breached[70:90], "cancelled", None)
    # a met deadline's verdict corrected, a breach recounted open (a provisional deadline)
    await change(runtime, met[:10], "met", False)
    await change(runtime, breached[90:100], "open", None)
    async with runtime.engine.begin() as conn:
        await conn.execute(
            deadlines.delete().where(deadlines.c.id.in_([r["id"] for r in met[10:20]]))
        )
    rows = [r for r in rows if r not in met[10:20]]
    await counted(runtime)
    await fold(runtime)
    folded = await counted(runtime)
    async with runtime.engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(deadline_kpi_deltas)) == 0
        assert await conn.scalar(
            sa.select(sa.func.count()).select_from(deadline_kpi_counts)
        ) >= len(folded)

    # and the KPIs from the counts are kpis.compute()'s over the deadlines, on whole days, on
    # the refresh's window and on a window of odd edges (its partial minutes read deadlines)
    windows = [
        (DAY_START, DAY_START + timedelta(days=1)),
        metrics.window_ending(DAY_START + timedelta(minutes=20, seconds=13)),
        (DAY_START + timedelta(minutes=3, seconds=7.5), DAY_START + timedelta(minutes=17.3)),
        (DAY_START + timedelta(minutes=3, seconds=7), DAY_START + timedelta(minutes=3, seconds=40)),
    ]
    await change(runtime, breached[100:110], "breached", True)  # unfolded deltas are read too
    for start, end in windows:
        for group_by in ("day", "unit", "ticket_type", "all", "15min", "30min"):
            want = kpis.compute(
                calls=[],
                deadlines=[r for r in rows if start <= r["opened_at"] < end],
                rates=[],
                group_by=group_by,
                tz=TZ,
                answer_threshold_s=12.0,
            )
            async with runtime.unit_of_work() as uow:
                assert await sums(uow.session, start, end, group_by) == want, (start, group_by)


def scanned(plan: dict, into: dict[str, int]) -> dict[str, int]:
    """Rows each table's scans in a plan looked at (kept or filtered out), all loops."""
    if "Relation Name" in plan:
        rows = plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)
        relation = plan["Relation Name"]
        into[relation] = into.get(relation, 0) + rows * plan["Actual Loops"]
    for child in plan.get("Plans", ()):
        scanned(child, into)
    return into


async def rows_read(runtime, start: datetime, end: datetime) -> dict[str, int]:
    """Rows each table gave the sums of every grouping: their statements, run again under
    EXPLAIN ANALYZE (rows visible to them: a fold's dead versions are autovacuum's, not theirs)."""
    statements: list[tuple[str, object]] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    async with runtime.unit_of_work() as uow:
        # the session's connection only: the service's own work runs on others meanwhile
        connection = (await uow.session.connection()).sync_connection
        sa.event.listen(connection, "before_cursor_execute", note)
        for group_by in kpis.GROUPINGS:
            await sums(uow.session, start, end, group_by)
        sa.event.remove(connection, "before_cursor_execute", note)
    read: dict[str, int] = {}
    async with runtime.engine.connect() as conn:
        for statement, parameters in statements:
            if statement.lstrip().upper().startswith("SELECT"):
                plan = await conn.exec_driver_sql(
                    f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters
                )
                scanned(plan.scalar_one()[0]["Plan"], read)
    return read


async def test_the_refresh_reads_as_many_rows_for_ten_times_the_deadlines(runtime):
    rng = random.Random(7)
    now = DAY_START + timedelta(hours=20, seconds=31)
    windows = [metrics.window_ending(now), (DAY_START, DAY_START + timedelta(days=1))]
    first = [deadline(i, rng, minutes=2, prefix="a") for i in range(400)]
    for r in first:
        r.update(state=rng.choice(["met", "breached"]), met_on_time=rng.choice([True, False]))
    # then ten times as many, of the same minutes, keys and states: as many counts, more deadlines
    more = [{**r, "id": f"{r['id']}-{n}"} for n in range(10) for r in first]
    read = []
    for rows in (first, more):
        async with runtime.engine.begin() as conn:
            await conn.execute(deadlines.insert(), rows)
        await fold(runtime)
        read.append([await rows_read(runtime, start, end) for start, end in windows])
    async with runtime.engine.connect() as conn:
        counts = await conn.scalar(sa.select(sa.func.count()).select_from(deadline_kpi_counts))

    assert counts < len(first)
    for small, large in zip(*read, strict=True):
        assert large.get("deadlines", 0) == small.get("deadlines", 0) == 0
        assert large == small
        # each grouping's sums read the counts once
        assert 0 < large["deadline_kpi_counts"] <= len(kpis.GROUPINGS) * counts
