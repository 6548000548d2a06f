"""The KPI report's sums come from SQL aggregates; they must say exactly what kpis.compute() says
over the same facts (compute() is the definition, kept pure). Varied facts: calls still ringing,
answered with and without a stored delay, abandoned and ended otherwise; deadlines of every kind
and state, met_on_time unset; callback rates over a month boundary; planned outage notices in
time and late (issue 16 g); times either side of
business-day midnight (Asia/Shanghai) and of the window's edges."""

import asyncio
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from brightline.platform.testing import running
from brightline.sla_monitor import kpis
from brightline.sla_monitor.adapters.orm import (
    callback_rates,
    calls,
    deadlines,
    planned_outage_notices,
)
from brightline.sla_monitor.adapters.repository import KpiRepository
from brightline.sla_monitor.main import create_app
from brightline.sla_monitor.settings import SlaMonitorSettings

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Shanghai")
FIRST, LAST = (
    date(2025, 2, 27),
    date(2025, 3, 1),
)  # business days of the window; a month ends inside
START = datetime.combine(FIRST, time(), TZ)
END = datetime.combine(LAST + timedelta(days=1), time(), TZ)
THRESHOLD = 12.0
KEYS = [
    "repair.arrival.urban",
    "repair.arrival.rural",
    "complaint.reply",
    "report.reply",
    "callback.window",
    "call.answer",
    "repair_arrival_x",
]
STATES = ["open", "warned", "breached", "met", "cancelled", "errored", "paused"]


def facts(rng: random.Random):
    def moment() -> datetime:  # around the window, often near a local midnight
        base = START - timedelta(hours=3) + timedelta(days=rng.randint(0, 3))
        return (
            base
            + timedelta(
                hours=rng.choice([0, 2.99, 3, 3.01, 10, 26.99, 27]), seconds=rng.randint(0, 90)
            )
            if rng.random() < 0.5
            else base + timedelta(seconds=rng.randint(0, 86400))
        ).astimezone(UTC)

    call_rows = []
    for i in range(400):
        rang = moment()
        kind = rng.choice(
            ["ringing", "answered", "answered_no_delay", "abandoned", "ended", "answered_ended"]
        )
        delay = rng.choice([3, 11.5, 12, 12.0001, 20, 45.25])
        answered = rang + timedelta(seconds=delay) if kind.startswith("answered") else None
        ended = (
            rang + timedelta(seconds=90)
            if kind in ("abandoned", "ended", "answered_ended")
            else None
        )
        call_rows.append(
            dict(
                call_id=f"c{i}",
                queue="q",
                rang_at=rang,
                answered_at=answered,
                ended_at=ended,
                cause={
                    "abandoned": "abandoned",
                    "ended": rng.choice(["normal", "abandoned_ivr"]),
                    "answered_ended": "abandoned",
                }.get(kind),
                answer_delay_seconds=None
                if kind == "answered_no_delay" or answered is None
                else delay,
            )
        )
    deadline_rows = []
    for i in range(600):
        state = rng.choice(STATES)
        deadline_rows.append(
            dict(
                id=f"d{i}",
                limit_key=rng.choice(KEYS),
                policy="seed@1",
                subject_type="work_order",
                subject_id=f"s{i}",
                ticket_id=f"t{i}",
                state=state,
                opened_at=moment(),
                unit_id=rng.choice(["U1", "U2", None]),
                ticket_type=rng.choice(["repair", "complaint", None]),
                met_on_time=rng.choice([True, False, None])
                if state in ("met", "breached", "open")
                else None,
            )
        )
    rate_rows = [
        dict(
            key=f"k{i}",
            day=FIRST - timedelta(days=1) + timedelta(days=rng.randint(0, 4)),
            unit_id=rng.choice(["U1", "U2", "U3"]),
            ticket_type=rng.choice(["repair", "complaint"]),
            finished=rng.randint(0, 30),
            called_back=rng.randint(0, 30),
            attempted_unreached=rng.randint(0, 5),
            computed_at=START,
        )
        for i in range(60)
    ]
    planned_rows = []
    for i in range(80):
        registered, late = moment(), rng.random() < 0.4
        given = rng.choice([24.0, 167.99]) if late else rng.choice([168.0, 300.0])
        planned_rows.append(
            dict(
                planned_outage_id=f"p{i}",
                unit_id=rng.choice(["U1", "U2", None]),
                registered_at=registered,
                starts_at=registered + timedelta(hours=given + 1),
                announced_at=registered + timedelta(hours=1),
                notice_required_days=7.0,
                notice_given_hours=given,
                notice_late=late,
                important_customers=rng.randint(0, 3),
            )
        )
    return call_rows, deadline_rows, rate_rows, planned_rows


@pytest.fixture
async def engine(infra_env, db_name):
    settings = SlaMonitorSettings(
        database_name=db_name("sla"), scheduler_enabled=False, kpi_refresh_seconds=3600, **infra_env
    )
    app = create_app(settings)
    async with running(app):
        yield app.state.runtime


def assert_same_rows(got: list[kpis.KpiRow], want: list[kpis.KpiRow]) -> None:
    assert [r.group for r in got] == [r.group for r in want]
    for g, w in zip(got, want, strict=True):
        for name in kpis.COLUMNS:
            expected = getattr(w, name)
            if isinstance(expected, float):
                assert getattr(g, name) == pytest.approx(expected, rel=1e-12), (w.group, name)
            else:
                assert getattr(g, name) == expected, (w.group, name)


async def test_sql_sums_give_the_same_kpis_as_compute(engine):
    call_rows, deadline_rows, rate_rows, planned_rows = facts(random.Random(11))
    async with engine.engine.begin() as conn:
        await conn.execute(calls.insert(), call_rows)
        await conn.execute(deadlines.insert(), deadline_rows)
        await conn.execute(callback_rates.insert(), rate_rows)
        await conn.execute(planned_outage_notices.insert(), planned_rows)
    in_window = [c for c in call_rows if START <= c["rang_at"] < END]
    opened = [d for d in deadline_rows if START <= d["opened_at"] < END]
    rates = [r for r in rate_rows if FIRST <= r["day"] <= LAST]
    planned = [p for p in planned_rows if START <= p["registered_at"] < END]
    assert any(p["notice_late"] for p in planned) and not all(p["notice_late"] for p in planned)
    # the facts reach every branch of the definitions
    assert any(c["answer_delay_seconds"] is None and c["answered_at"] for c in in_window)
    assert len({d["opened_at"].astimezone(TZ).date() for d in opened}) == 3

    for group_by in kpis.GROUPINGS:
        want = kpis.compute(
            calls=in_window,
            deadlines=opened,
            rates=rates,
            group_by=group_by,
            tz=TZ,
            answer_threshold_s=THRESHOLD,
            planned=planned,
        )
        async with engine.unit_of_work() as uow:
            sums = await KpiRepository(uow.session).sums(
                start=START,
                end=END,
                first_day=FIRST,
                last_day=LAST,
                group_by=group_by,
                tz=TZ.key,
                answer_threshold_s=THRESHOLD,
            )
        assert_same_rows(kpis.rows_from_sums(sums), want)
        assert all(
            r.calls_offered
            or r.callback_finished
            or r.arrival_on_time_rate is not None
            or r.complaint_reply_on_time_rate is not None
            or r.report_reply_on_time_rate is not None
            or r.callback_rate is not None
            or r.planned_outage_notices
            for r in want
        )

    async with engine.unit_of_work() as uow:
        by_unit = await KpiRepository(uow.session).month_callback_sums(LAST)
    month = kpis.callback_month(rate_rows, month=LAST, target=0.9)
    assert kpis.callback_month_of(by_unit, month=LAST, target=0.9) == month
    assert month.finished > 0 and month.unreached > 0 and len(month.units) == 3


async def test_an_empty_window_has_no_groups(engine):
    async with engine.unit_of_work() as uow:
        sums = await KpiRepository(uow.session).sums(
            start=START,
            end=END,
            first_day=FIRST,
            last_day=LAST,
            group_by="all",
            tz=TZ.key,
            answer_threshold_s=THRESHOLD,
        )
        assert sums == {}
        assert await KpiRepository(uow.session).month_callback_sums(LAST) == {}
    assert kpis.rows_from_sums(sums) == kpis.compute(
        calls=[], deadlines=[], rates=[], group_by="all", tz=TZ, answer_threshold_s=THRESHOLD
    )


async def test_the_report_reads_no_fact_rows(engine):
    """The KPI report's statements return one row per group, never the facts themselves."""
    call_rows, deadline_rows, rate_rows, _ = facts(random.Random(5))
    async with engine.engine.begin() as conn:
        await conn.execute(calls.insert(), call_rows)
        await conn.execute(deadlines.insert(), deadline_rows)
        await conn.execute(callback_rates.insert(), rate_rows)
    fetched = []
    report_task = asyncio.current_task()

    def count(conn, cursor, statement, parameters, context, executemany):
        # the running service shares the engine (relay, sealer, KPI refresh): count the report's own
        if asyncio.current_task() is report_task:
            fetched.append(cursor.rowcount if cursor.description else 0)

    from brightline.sla_monitor.api.routes import kpi_report
    from brightline.sla_monitor.handlers import policy_book

    sa.event.listen(engine.engine.sync_engine, "after_cursor_execute", count)
    try:
        rows, _, _ = await kpi_report(
            engine.unit_of_work(),
            policy_book(("seed",), ()),
            TZ,
            start=START,
            end=END,
            group_by="day",
            month=LAST,
        )
    finally:
        sa.event.remove(engine.engine.sync_engine, "after_cursor_execute", count)
    assert [r.group for r in rows] == ["2025-02-27", "2025-02-28", "2025-03-01"]
    # each statement returns at most one row per group (three days), never the 400 calls or 600 deadlines
    assert fetched and min(fetched) >= 0 and max(fetched) <= 3
