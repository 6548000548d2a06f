"""The monitor's pure decisions: fire points at their scheduled times, once; monotone advancing."""

from datetime import datetime, timedelta

import pytest

from brightline.calendar import business_tz
from brightline.sla_monitor.domain.deadlines import due_at
from brightline.sla_monitor.domain.monitor import (
    Meet,
    Open,
    advance,
    apply,
    open_tracked,
    recompute,
)
from brightline.sla_monitor.domain.policy import PolicyBook, load_pack

SH = business_tz()
BOOK = PolicyBook([load_pack("seed")])
T0 = datetime(2025, 1, 27, 10, 0, tzinfo=SH)


def arrival():
    tracked, events = open_tracked(
        Open(
            limit_key="repair.arrival.urban",
            subject_type="work_order",
            subject_id="wo1",
            ticket_id="t1",
            at=T0,
        ),
        BOOK,
    )
    assert len(events) == 1
    return tracked


def kinds(events):
    return [type(e).__name__ for e in events]


def test_points_fire_once_each_at_their_scheduled_time():
    tracked, events = advance(arrival(), T0 + timedelta(hours=5))
    assert kinds(events) == ["DeadlineWarned", "DeadlineBreached", "DeadlineEscalated"]
    assert [e.occurred_at for e in events] == [
        T0 + timedelta(minutes=36),
        T0 + timedelta(minutes=45),
        T0 + timedelta(minutes=75),
    ]
    assert tracked.next_fire_at is None
    assert advance(tracked, T0 + timedelta(days=1))[1] == ()  # never twice


def test_advancing_in_steps_equals_advancing_at_once():
    stepped, first = advance(arrival(), T0 + timedelta(minutes=40))
    stepped, second = advance(stepped, T0 + timedelta(hours=2))
    at_once, all_events = advance(arrival(), T0 + timedelta(hours=2))
    assert stepped == at_once and (*first, *second) == all_events


def test_work_done_exactly_at_the_due_time_is_on_time_and_not_breached():
    tracked, events = apply(
        arrival(),
        Meet(
            subject_type="work_order",
            subject_id="wo1",
            limit_keys=("repair.arrival.urban",),
            at=T0 + timedelta(minutes=45),
        ),
    )
    assert kinds(events) == ["DeadlineWarned", "DeadlineMet"] and tracked.met_on_time is True


def test_a_late_meet_finds_the_breach_recorded_first():
    tracked, events = apply(
        arrival(),
        Meet(
            subject_type="work_order",
            subject_id="wo1",
            limit_keys=("repair.arrival.urban",),
            at=T0 + timedelta(minutes=50),
        ),
    )
    assert kinds(events) == ["DeadlineWarned", "DeadlineBreached", "DeadlineMet"]
    assert tracked.met_on_time is False


def test_a_working_day_limit_past_the_calendar_is_opened_provisional_and_said_so():
    tracked, events = open_tracked(
        Open(
            limit_key="case.transfer",
            subject_type="case",
            subject_id="k",
            ticket_id="t",
            at=datetime(2099, 3, 2, 10, tzinfo=SH),
        ),
        BOOK,
    )
    # Monday 2099-03-02 10:00 + 1 working day, 2099 unknown: Tuesday 03-03 10:00, weekends only.
    assert tracked.provisional and tracked.state == "open" and tracked.error is None
    assert tracked.deadline.due_at == datetime(2099, 3, 3, 10, tzinfo=SH)
    assert [e.provisional for e in events] == [True]
    # Still unknown: recomputing changes nothing and says nothing.
    assert recompute(tracked, datetime(2099, 3, 2, 11, tzinfo=SH)) == (tracked, ())


# The make-up Sunday 2025-01-26 (调休) in every unit: fixed spans ignore it, calendar days count it,
# working days count it as a working day.
@pytest.mark.parametrize(
    ("key", "due"),
    [
        ("call.answer", "2025-01-26T09:00:12"),  # seconds
        ("repair.arrival.urban", "2025-01-26T09:45:00"),  # minutes
        ("callback.window", "2025-01-27T09:00:00"),  # hours
        (
            "complaint.reply",
            "2025-01-31T09:00:00",
        ),  # calendar days, into the Spring Festival holiday
        ("case.transfer", "2025-01-27T09:00:00"),  # working days: Monday is the next working day
        (
            "first_ask.answer",
            "2025-02-05T09:00:00",
        ),  # 2 working days: Jan 27, then over the holiday to Feb 5
    ],
)
def test_every_unit_from_the_make_up_sunday(key, due):
    opened = datetime(2025, 1, 26, 9, 0, tzinfo=SH)
    assert due_at(load_pack("seed").limit(key), opened) == datetime.fromisoformat(due).replace(
        tzinfo=SH
    )
