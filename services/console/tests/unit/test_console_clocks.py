"""The clocks on the supervisor's board: kinds, time left, share elapsed, urgency order."""

from datetime import UTC, datetime, timedelta

from brightline.console.domain.clocks import Owner, board, kind_of, owners

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def deadline(key, opened_ago_h, span_h, state="open", unit="U1", paused_ago_h=None):
    opened = NOW - timedelta(hours=opened_ago_h)
    return {
        "id": f"{key}-{opened_ago_h}",
        "limit_key": key,
        "state": state,
        "subject_id": "s",
        "ticket_id": "t",
        "unit_id": unit,
        "opened_at": opened.isoformat(),
        "due_at": (opened + timedelta(hours=span_h)).isoformat(),
        "paused_since": (NOW - timedelta(hours=paused_ago_h)).isoformat()
        if paused_ago_h is not None
        else None,
    }


def test_kinds_follow_the_limit_keys_of_the_packs():
    assert [
        kind_of(k)
        for k in (
            "call.answer",
            "repair.arrival.urban",
            "appointment.arrival",
            "complaint.transfer",
            "complaint.reply",
            "bill_query.written_reply",
            "first_ask.answer",
            "callback.window",
            "meter.fault",
        )
    ] == [
        "call",
        "arrival",
        "arrival",
        "transfer",
        "reply",
        "reply",
        "reply",
        "callback",
        "service",
    ]


def test_most_urgent_first_overdue_ahead_and_stopped_clocks_last_where_they_stopped():
    rows = board(
        [
            deadline("complaint.reply", 10, 120),
            deadline("repair.arrival.urban", 1, 0.75, state="breached"),
            deadline("complaint.transfer", 20, 24, state="paused", paused_ago_h=8),
            deadline("callback.window", 1, 2),
            deadline("complaint.reply", 1, 120, state="met"),
        ],
        NOW,
        pausable=lambda d: d["limit_key"] == "complaint.transfer",
    )
    assert [r.limit_key for r in rows] == [
        "repair.arrival.urban",
        "callback.window",
        "complaint.reply",
        "complaint.transfer",
    ]
    late, callback, reply, paused = rows
    assert late.seconds_left == -15 * 60 and late.elapsed == 1 / 0.75
    assert callback.seconds_left == 3600 and callback.elapsed == 0.5
    assert paused.seconds_left == 12 * 3600 and paused.elapsed == 0.5 and paused.pausable
    assert not reply.pausable


def test_filters_by_kind_and_unit():
    rows = [
        deadline("complaint.reply", 1, 5, unit="U1"),
        deadline("callback.window", 1, 5, unit="U2"),
    ]
    assert [r.unit_id for r in board(rows, NOW, pausable=lambda d: False, unit_id="U2")] == ["U2"]
    assert [r.kind for r in board(rows, NOW, pausable=lambda d: False, kind="reply")] == ["reply"]


def test_each_clock_names_its_owner_where_the_service_knows_and_filters_by_it():
    arrival = {**deadline("repair.arrival.urban", 1, 2), "subject_type": "work_order"}
    arrival["subject_id"] = "wo-1"
    reply = {**deadline("complaint.reply", 3, 120), "subject_type": "ticket", "ticket_id": "t9"}
    ringing = {**deadline("call.answer", 0, 1), "subject_type": "call", "ticket_id": None}
    found = owners(
        [arrival, reply, ringing],
        orders=[{"id": "wo-1", "crew_id": "crew-xh-1"}],
        crews=[{"crew_id": "crew-xh-1", "name": "西湖抢修一班"}],
        cases=[{"ticket_id": "t9", "department_id": "dept-service"}],
        departments=[{"id": "dept-service", "name": "客户服务中心"}],
    )
    assert found == {
        arrival["id"]: Owner("crew:crew-xh-1", "西湖抢修一班"),
        reply["id"]: Owner("department:dept-service", "客户服务中心"),
    }
    everyone = board([arrival, reply, ringing], NOW, pausable=lambda d: False, owners=found)
    assert {c.limit_key: c.owner_name for c in everyone} == {
        "repair.arrival.urban": "西湖抢修一班",
        "complaint.reply": "客户服务中心",
        "call.answer": None,
    }
    crew = board(
        [arrival, reply, ringing],
        NOW,
        pausable=lambda d: False,
        owners=found,
        owner="crew:crew-xh-1",
    )
    assert [c.id for c in crew] == [arrival["id"]]
