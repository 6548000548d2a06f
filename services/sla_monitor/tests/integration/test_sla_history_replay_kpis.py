"""A fixed event history (calls, work orders, cases, callbacks, callback rates) published onto the
real broker: the live monitor's breaches equal a replay's, and the KPIs equal the hand-computed ones.

Times lie in the past, so every timer is already due when the events arrive: the scheduler fires
each point stamped at its scheduled time, and nothing here depends on how fast that happens.
"""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from brightline.calendar import business_date
from brightline.contracts.events.callback import CallbackRateComputedV1, CallbackTaskCreatedV1
from brightline.contracts.events.casework import CaseOpenedV1, CaseStatusChangedV1
from brightline.contracts.events.dispatch import (
    WorkOrderCreatedV1,
    WorkOrderReturnedV1,
    WorkOrderStatusChangedV1,
)
from brightline.contracts.events.intake import CallAnsweredV1, CallEndedV1, CallRingingV1
from brightline.messaging.kafka import prefixed
from brightline.messaging.testing import events_of, publish, read_topic
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually, running
from brightline.sla_monitor.adapters.orm import event_log
from brightline.sla_monitor.handlers import policy_book
from brightline.sla_monitor.main import create_app
from brightline.sla_monitor.replay import breach_keys, replay
from brightline.sla_monitor.settings import SlaMonitorSettings

pytestmark = pytest.mark.integration

SUPERVISOR = bearer(Role.SUPERVISOR, subject="sup-1")
AGENT = bearer(Role.AGENT, subject="agent-1")
NOW = datetime.now(UTC).replace(microsecond=0)


def ago(**kw) -> datetime:
    return NOW - timedelta(**kw)


def calls():
    out = []
    for call_id, delay in (("c1", 5), ("c2", 12), ("c3", 20)):
        rang = ago(hours=1)
        out += [
            CallRingingV1(
                call_id=call_id,
                caller_number="13800000000",
                called_number="95598",
                queue="q",
                rang_at=rang,
            ),
            CallAnsweredV1(
                call_id=call_id,
                queue="q",
                agent_extension="8001",
                rang_at=rang,
                answered_at=rang + timedelta(seconds=delay),
                answer_delay_seconds=delay,
            ),
        ]
    rang = ago(minutes=50)
    out += [  # c4: abandoned after 8 s
        CallRingingV1(
            call_id="c4",
            caller_number="13800000001",
            called_number="95598",
            queue="q",
            rang_at=rang,
        ),
        CallEndedV1(
            call_id="c4",
            queue="q",
            cause="abandoned",
            rang_at=rang,
            answered_at=None,
            ended_at=rang + timedelta(seconds=8),
        ),
    ]
    rang = ago(minutes=40)
    out.append(  # c5: only the end record, answered after 3 s (delay computed from the times)
        CallEndedV1(
            call_id="c5",
            queue="q",
            cause="normal",
            rang_at=rang,
            answered_at=rang + timedelta(seconds=3),
            ended_at=rang + timedelta(minutes=4),
        )
    )
    return out


def work_orders():
    def created(wo, area, at):
        return WorkOrderCreatedV1(
            work_order_id=wo, ticket_id=f"t-{wo}", unit_id="U1", area_class=area, created_at=at
        )

    def on_site(wo, at):
        return WorkOrderStatusChangedV1(
            work_order_id=wo,
            ticket_id=f"t-{wo}",
            unit_id="U1",
            status="on_site",
            previous_status="en_route",
            changed_at=at,
        )

    t0 = ago(hours=2)
    return [
        created("wo1", "urban", t0),
        on_site("wo1", t0 + timedelta(minutes=30)),  # on time
        created("wo2", "urban", t0),
        on_site("wo2", t0 + timedelta(minutes=60)),  # late: breach at 45'
        created("wo3", "rural", ago(hours=3)),  # never arrives: breach at 90', escalation at 120'
        created("wo4", "urban", t0),
        WorkOrderReturnedV1(
            work_order_id="wo4",
            ticket_id="t-wo4",
            unit_id="U1",
            returned_at=t0 + timedelta(minutes=20),
            resolution="paid_service_referral",
        ),  # cancelled
    ]


def cases():
    def opened(case, kind, at):
        return CaseOpenedV1(
            case_id=case, ticket_id=f"t-{case}", case_type=kind, opened_at=at, first_ask_owner="a1"
        )

    def status(case, kind, to, at, note=None):
        return CaseStatusChangedV1(
            case_id=case,
            ticket_id=f"t-{case}",
            case_type=kind,
            status=to,
            previous_status="accepted",
            changed_at=at,
            actor="cw-1",
            note=note,
        )

    k1, r1, k2 = ago(days=7), ago(days=3), ago(days=3)
    return [
        opened("k1", "complaint", k1),
        status("k1", "complaint", "transferred", k1 + timedelta(hours=1)),
        # k1 is never answered: reply breached at +5 d, escalated at +6 d
        opened("r1", "report", r1),
        # passed on within the hour (report.transfer: 1 h, 立即), as k1 and k2 at the hour exactly
        status("r1", "report", "transferred", r1 + timedelta(minutes=40)),
        status("r1", "report", "answered", ago(days=1)),  # on time (10 d)
        opened("k2", "complaint", k2),
        status("k2", "complaint", "transferred", k2 + timedelta(hours=1)),
        # a free-text note "waiting_for_customer" stops no clock: only the audited pause action does
        status(
            "k2", "complaint", "investigating", k2 + timedelta(days=1), note="waiting_for_customer"
        ),
        status("k2", "complaint", "investigating", k2 + timedelta(days=2)),
    ]


def callbacks():
    return [
        CallbackTaskCreatedV1(
            task_id="cb1",
            ticket_id="t-cb1",
            ticket_type="repair",
            origin="dispatch",
            created_at=ago(hours=30),
            due_at=ago(hours=6),
        ),  # breached at +24 h
        *rates(),
    ]


def rates():
    day = business_date(NOW)

    def rate(key, unit, kind, finished, called_back, computed, unreached=0):
        return CallbackRateComputedV1(
            key=key,
            day=day,
            unit_id=unit,
            ticket_type=kind,
            finished=finished,
            called_back=called_back,
            reached=called_back,
            satisfied=called_back,
            callback_rate=called_back / finished,
            satisfaction_rate=1.0,
            computed_at=computed,
            attempted_unreached=unreached,
        )

    return [
        rate("A", "U1", "repair", 10, 9, ago(minutes=30)),
        # the latest for key A wins: every callback decided, two never reached
        rate("A", "U1", "repair", 10, 8, ago(minutes=10), unreached=2),
        rate("B", "U2", "complaint", 10, 9, ago(minutes=20)),  # one callback still pending
    ]


@pytest.fixture
async def monitor(infra_env, db_name):
    # Topics of its own: the history must be exactly these events, not those of other tests
    # sharing the session's topics.
    infra_env = {**infra_env, "kafka_topic_prefix": infra_env["kafka_topic_prefix"] + "replay."}
    # The history is back-dated: delivered in real time, each event would have reached the monitor
    # before the fire points after it. The scheduler therefore starts once every event is consumed;
    # a live scheduler cannot un-fire a breach that an event arriving hours late would have prevented.
    settings = SlaMonitorSettings(
        database_name=db_name("sla"),
        scheduler_interval_seconds=0.2,
        scheduler_enabled=False,
        kpi_refresh_seconds=0.5,
        **infra_env,
    )
    app = create_app(settings)
    async with running(app) as client:
        history = await publish(
            infra_env["kafka_bootstrap_servers"],
            infra_env["kafka_topic_prefix"],
            *calls(),
            *work_orders(),
            *cases(),
            *callbacks(),
        )

        async def all_consumed():
            async with app.state.runtime.engine.connect() as conn:
                return await conn.scalar(sa.select(sa.func.count()).select_from(event_log)) == len(
                    history
                )

        await eventually(all_consumed, timeout=90)
        app.state.scheduler.start()
        yield client, history, infra_env


async def test_live_breaches_equal_a_replay_of_the_history(monitor):
    client, history, infra_env = monitor

    async def settled():
        rows = (await client.get("/deadlines", headers=SUPERVISOR)).json()
        escalated = {r["subject_id"] for r in rows if r["escalations_sent"]}
        return (
            rows
            if {"wo3", "k1"} <= escalated
            and len(rows) == 16
            and not any(
                r["next_fire_at"] and datetime.fromisoformat(r["next_fire_at"]) < NOW for r in rows
            )
            else None
        )

    rows = await eventually(settled, timeout=60)
    by = {(r["subject_id"], r["limit_key"]): r for r in rows}
    assert (
        by[("wo1", "repair.arrival.urban")]["state"] == "met"
        and by[("wo1", "repair.arrival.urban")]["met_on_time"]
    )
    assert (
        by[("wo2", "repair.arrival.urban")]["state"] == "met"
        and by[("wo2", "repair.arrival.urban")]["met_on_time"] is False
    )
    assert by[("wo2", "repair.arrival.urban")]["breached_at"] is not None
    assert by[("wo3", "repair.arrival.rural")]["state"] == "breached"
    assert by[("wo4", "repair.arrival.urban")]["state"] == "cancelled"
    assert by[("k1", "complaint.reply")]["state"] == "breached"
    k2 = by[("k2", "complaint.reply")]
    assert k2["state"] == "open"
    assert datetime.fromisoformat(k2["due_at"]) - datetime.fromisoformat(
        k2["opened_at"]
    ) == timedelta(days=5)
    assert by[("r1", "report.reply")]["state"] == "met"
    assert by[("cb1", "callback.window")]["state"] == "breached"
    assert (
        by[("c3", "call.answer")]["state"] == "met"
        and by[("c3", "call.answer")]["met_on_time"] is False
    )
    assert by[("c4", "call.answer")]["state"] == "cancelled"  # abandoned before 12 s

    live = [
        e.payload()
        for e in events_of(
            await read_topic(
                infra_env["kafka_bootstrap_servers"],
                prefixed(infra_env["kafka_topic_prefix"], "sla.deadlines"),
                expect=10_000,
                timeout=6,
            )
        )
    ]
    live_breaches = breach_keys(live)
    subjects = {r["id"]: r["subject_id"] for r in rows}
    assert sorted((subjects[d], level) for d, level, _ in live_breaches) == sorted(
        [
            ("c3", "breach"),
            ("wo2", "breach"),
            ("wo3", "breach"),
            ("wo3", "breach+30m"),
            ("k1", "breach"),
            ("k1", "breach+1d"),
            ("cb1", "breach"),
        ]
    )

    replayed = await replay(history, datetime.now(UTC), book=policy_book(("seed",), ()))
    assert replayed.breaches == live_breaches

    verify = await client.post("/replay/verify", headers=SUPERVISOR)
    assert verify.status_code == 200, verify.text
    assert verify.json()["equal"] is True
    assert len(verify.json()["live_breaches"]) == 7
    assert (await client.post("/replay/verify", headers=AGENT)).status_code == 403
    # Cut minutes before the last breach, the live side leaves out what came after, as the
    # replay does.
    last = max(datetime.fromisoformat(at) for _, _, at in live_breaches)
    earlier = await client.post(
        "/replay/verify",
        params={"until": (last - timedelta(minutes=5)).isoformat()},
        headers=SUPERVISOR,
    )
    assert earlier.status_code == 200, earlier.text
    assert earlier.json()["equal"] is True, earlier.json()
    assert len(earlier.json()["live_breaches"]) < 7
    for bad in ("2026-12-08T00:00:00", "9999-12-31T23:59:59-05:00"):
        refused = await client.post("/replay/verify", params={"until": bad}, headers=SUPERVISOR)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["errors"][0]["field"] == "query.until"

    open_breaches = (await client.get("/breaches", headers=AGENT)).json()
    assert {b["subject_id"] for b in open_breaches} == {"wo3", "k1", "cb1"}


async def test_kpis_match_hand_computed_values(monitor):
    client, _, _ = monitor
    window = {
        "date_from": (NOW - timedelta(days=8)).date().isoformat(),
        "date_to": (NOW + timedelta(days=1)).date().isoformat(),
    }

    async def report():
        body = (
            await client.get("/kpis", params={**window, "group_by": "all"}, headers=SUPERVISOR)
        ).json()
        row = body["rows"][0] if body.get("rows") else {}
        done = (
            row.get("calls_offered") == 5
            and row.get("report_reply_on_time_rate") is not None
            and row.get("callback_finished") == 20
            and row.get("complaint_reply_on_time_rate") is not None
            and row.get("arrival_on_time_rate") is not None
        )
        return body if done else None

    body = await eventually(report, timeout=60)
    [row] = body["rows"]
    assert body["answer_threshold_s"] == 12
    # calls: 5 offered; answered after 5, 12, 20, 3 s; c4 abandoned
    assert row["calls_answered"] == 4
    assert row["answered_within_threshold"] == pytest.approx(3 / 5)
    assert row["average_speed_of_answer_s"] == pytest.approx((5 + 12 + 20 + 3) / 4)
    assert row["abandonment_rate"] == pytest.approx(1 / 5)
    # arrival: wo1 on time, wo2 late, wo3 breached, wo4 cancelled (not counted)
    assert row["arrival_on_time_rate"] == pytest.approx(1 / 3)
    # complaint replies decided: only k1 (breached); k2 still running
    assert row["complaint_reply_on_time_rate"] == 0.0
    assert row["report_reply_on_time_rate"] == 1.0
    # callback: latest per key: A 8/10, B 9/10
    assert (row["callback_finished"], row["callback_called_back"]) == (20, 17)
    assert row["callback_rate"] == pytest.approx(0.85)
    month = body["callback_month"]
    # 17 of 20 reached, 2 never, 1 pending: counted as reached in the proportion 17 of 19 were.
    assert (
        month["month_to_date"] == pytest.approx(0.85)
        and month["projection"] == pytest.approx((17 + 17 / 19) / 20)
        and month["target"] == 0.9
        and month["alarm"] is True
    )
    assert [(u["unit_id"], u["pending"], u["projection"], u["alarm"]) for u in month["units"]] == [
        ("U1", 0, pytest.approx(0.8), True),
        ("U2", 1, pytest.approx(1.0), False),
    ]

    by_unit = (
        await client.get("/kpis", params={**window, "group_by": "unit"}, headers=SUPERVISOR)
    ).json()
    units = {r["group"]: r for r in by_unit["rows"]}
    assert units["U1"]["callback_rate"] == pytest.approx(0.8)
    assert units["U2"]["callback_rate"] == pytest.approx(0.9)
    assert units["U1"]["arrival_on_time_rate"] == pytest.approx(1 / 3)
    assert units[None]["calls_offered"] == 5

    by_type = (
        await client.get("/kpis", params={**window, "group_by": "ticket_type"}, headers=SUPERVISOR)
    ).json()
    types = {r["group"]: r for r in by_type["rows"]}
    assert types["complaint"]["complaint_reply_on_time_rate"] == 0.0
    assert types["report"]["report_reply_on_time_rate"] == 1.0

    csv_export = await client.get(
        "/kpis/export", params={**window, "group_by": "unit", "format": "csv"}, headers=SUPERVISOR
    )
    assert csv_export.headers["content-type"].startswith("text/csv")
    parsed = {r["group"]: r for r in csv.DictReader(io.StringIO(csv_export.text))}
    assert float(parsed["U2"]["callback_rate"]) == pytest.approx(0.9)
    xlsx = await client.get(
        "/kpis/export", params={**window, "group_by": "unit", "format": "xlsx"}, headers=SUPERVISOR
    )
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    header = [c.value for c in sheet[1]]
    values = {r[header.index("group")]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["U1"][header.index("callback_rate")] == pytest.approx(0.8)
    assert (await client.get("/kpis", headers=AGENT)).status_code == 403

    # The /metrics gauges cover the last 24 h: the calls, wo1-wo4 and today's callback rates.
    async def gauges():
        text = (await client.get("/metrics")).text
        lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("sla_"))
        settled = (
            lines.get("sla_answered_within_threshold_ratio") == "0.6"
            and lines.get("sla_arrival_on_time_ratio", "").startswith("0.333")
            and lines.get("sla_callback_rate_alarm") == "1.0"
        )
        return lines if settled else None

    lines = await eventually(gauges)
    assert float(lines["sla_average_speed_of_answer_seconds"]) == pytest.approx(10.0)
    assert float(lines["sla_abandonment_ratio"]) == pytest.approx(0.2)
    assert float(lines["sla_arrival_on_time_ratio"]) == pytest.approx(1 / 3)
    assert float(lines["sla_callback_rate_ratio"]) == pytest.approx(0.85)
    assert lines["sla_callback_rate_alarm"] == "1.0"


async def test_a_date_past_the_calendar_is_opened_provisional_and_said_so(monitor):
    client, _, _ = monitor
    # The first Monday the calendar does not know, and not before next week's: a limit may be
    # opened up to 90 days ahead (an agreed hour), never in a typo's year.
    known_until = date.fromisoformat(
        (await client.get("/calendar", headers=SUPERVISOR)).json()["known_until"]
    )
    start = max(known_until + timedelta(days=1), datetime.now(ZoneInfo("Asia/Shanghai")).date())
    monday = start + timedelta(days=-start.weekday() % 7)
    response = await client.post(
        "/deadlines",
        headers=SUPERVISOR,
        json={
            "limit_key": "bill_query.written_reply",
            "subject_type": "ticket",
            "subject_id": "t-unknown-year",
            "ticket_id": "t-unknown-year",
            "opened_at": f"{monday.isoformat()}T10:00:00+08:00",
        },
    )
    # Monday 10:00 + 1 working day, a year unknown to the calendar: Tuesday 10:00, weekends only.
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["state"] == "open" and stored["provisional"] is True
    tuesday = monday + timedelta(days=1)
    assert stored["due_at"] == f"{tuesday.isoformat()}T02:00:00Z"


async def test_supervisor_pauses_and_resumes_a_pausable_deadline(monitor):
    client, _, _ = monitor
    opened = await client.post(
        "/deadlines",
        headers=SUPERVISOR,
        json={
            "limit_key": "complaint.reply",
            "subject_type": "case",
            "subject_id": "k-manual",
            "ticket_id": "t-km",
        },
    )
    assert opened.status_code == 201, opened.text
    deadline = opened.json()
    paused = await client.post(
        f"/deadlines/{deadline['id']}/pause",
        json={"reason": "waiting_for_customer"},
        headers=SUPERVISOR,
    )
    assert paused.json()["state"] == "paused" and paused.json()["next_fire_at"] is None
    resumed = await client.post(f"/deadlines/{deadline['id']}/resume", headers=SUPERVISOR)
    assert resumed.json()["state"] == "open"
    assert resumed.json()["due_at"] > deadline["due_at"]  # the pause moved the due time
    transfer = await client.post(
        "/deadlines",
        headers=SUPERVISOR,
        json={"limit_key": "call.answer", "subject_type": "call", "subject_id": "c-manual"},
    )
    refused = await client.post(
        f"/deadlines/{transfer.json()['id']}/pause",
        json={"reason": "waiting_for_customer"},
        headers=SUPERVISOR,
    )
    assert refused.status_code == 409 and refused.json()["type"].endswith("/illegal-transition")
    assert (
        await client.post(
            f"/deadlines/{deadline['id']}/pause",
            json={"reason": "waiting_for_customer"},
            headers=AGENT,
        )
    ).status_code == 403
