"""The clocks on the supervisor's board: kinds, time left, share elapsed, urgency order."""

from datetime import UTC, datetime, timedelta

from brightline.console.domain.clocks import board, kind_of

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
