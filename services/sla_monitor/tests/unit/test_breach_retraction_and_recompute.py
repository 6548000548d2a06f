"""A breach decided on the monitor's clock is taken back when the input's own time proves the work
was done in time; a provisional deadline is counted again when the year's notice is entered."""

from datetime import datetime, timedelta

from brightline.calendar import business_tz, parse_holiday_file, use_holiday_file
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
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=SH)


def kinds(events):
    return [type(e).__name__ for e in events]


def test_an_answer_at_exactly_12_0_s_arriving_after_the_breach_retracts_it():
    tracked, _ = open_tracked(
        Open(limit_key="call.answer", subject_type="call", subject_id="c", ticket_id=None, at=T0),
        BOOK,
    )
    # The scheduler ran at T0 + 12.3 s, before the answer event reached the monitor.
    tracked, fired = advance(tracked, T0 + timedelta(seconds=12.3))
    assert kinds(fired) == ["DeadlineWarned", "DeadlineBreached"]
    # The switch says: answered at 12.0 s. Within the limit (<= 12 s), so the breach goes.
    answered = T0 + timedelta(seconds=12)
    tracked, events = apply(
        tracked, Meet(subject_type="call", subject_id="c", limit_keys=("call.answer",), at=answered)
    )
    assert kinds(events) == ["DeadlineMet", "DeadlineBreachRetracted"]
    assert tracked.met_on_time is True and tracked.deadline.breach_retracted_at == answered


def test_an_answer_at_12_1_s_stays_a_breach():
    tracked, _ = open_tracked(
        Open(limit_key="call.answer", subject_type="call", subject_id="c", ticket_id=None, at=T0),
        BOOK,
    )
    tracked, _ = advance(tracked, T0 + timedelta(seconds=13))
    late = T0 + timedelta(seconds=12.1)
    tracked, events = apply(
        tracked, Meet(subject_type="call", subject_id="c", limit_keys=("call.answer",), at=late)
    )
    assert kinds(events) == ["DeadlineMet"] and tracked.met_on_time is False


def test_a_provisional_transfer_limit_is_recomputed_when_2027_is_entered():
    use_holiday_file(parse_holiday_file("years: {}"))
    try:
        # Thursday 2026-12-31 15:00 + 2 working days (first_ask.answer). 2027 unknown: Fri Jan 1
        # counted as day 1 (a guess), Mon Jan 4 15:00 is the provisional due time.
        tracked, events = open_tracked(
            Open(
                limit_key="first_ask.answer",
                subject_type="ticket",
                subject_id="t",
                ticket_id="t",
                at=datetime(2026, 12, 31, 15, tzinfo=SH),
            ),
            BOOK,
        )
        assert tracked.provisional and events[0].provisional
        assert tracked.deadline.due_at == datetime(2027, 1, 4, 15, tzinfo=SH)
        # The 2027 notice is entered: Jan 1-3 off. Mon Jan 4 is day 1, Tue Jan 5 15:00 is due.
        use_holiday_file(
            parse_holiday_file(
                "years: {2027: {notice: test, holidays: [{from: 2027-01-01, to: 2027-01-03}]}}"
            )
        )
        tracked, events = recompute(tracked, datetime(2026, 12, 31, 16, tzinfo=SH))
        assert kinds(events) == ["DeadlineRescheduled"] and not events[0].provisional
        assert tracked.deadline.due_at == datetime(2027, 1, 5, 15, tzinfo=SH)
        assert not tracked.provisional
    finally:
        use_holiday_file(None)
