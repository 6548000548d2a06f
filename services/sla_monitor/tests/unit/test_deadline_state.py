"""The Deadline lifecycle: transitions are pure and return the events they cause."""

from datetime import datetime, timedelta

import pytest

from brightline.calendar import business_tz
from brightline.sla_monitor.domain.deadlines import (
    DeadlineState,
    InvalidTransition,
    cancel,
    check,
    meet,
    open_deadline,
    pause,
    resume,
)
from brightline.sla_monitor.domain.events import (
    DeadlineBreached,
    DeadlineCancelled,
    DeadlineEscalated,
    DeadlineMet,
    DeadlineOpened,
    DeadlinePaused,
    DeadlineResumed,
    DeadlineWarned,
)
from brightline.sla_monitor.domain.policy import load_pack

SH = business_tz()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture(scope="module")
def seed():
    return load_pack("seed")


def open_complaint(seed, opened="2025-01-27T10:00"):
    return open_deadline(
        deadline_id="d-1",
        ticket_id="T-1",
        limit=seed.limit("complaint.reply"),
        policy=seed.ref,
        opened_at=at(opened),
    )


def test_open_records_policy_and_times(seed):
    deadline, events = open_complaint(seed)
    assert deadline.state is DeadlineState.OPEN
    assert deadline.policy == "seed@1"
    (opened,) = events
    assert isinstance(opened, DeadlineOpened)
    assert (opened.due_at, opened.warn_at) == (at("2025-02-01T10:00"), at("2025-01-31T10:00"))
    assert (opened.ticket_id, opened.limit_key) == ("T-1", "complaint.reply")


def test_warn_breach_escalate_in_order_and_only_once(seed):
    deadline, _ = open_complaint(seed)
    deadline, events = check(deadline, at("2025-01-31T09:59"))
    assert events == () and deadline.state is DeadlineState.OPEN

    deadline, events = check(deadline, at("2025-01-31T10:00"))
    (warned,) = events
    assert isinstance(warned, DeadlineWarned) and warned.notify == ("department",)
    assert deadline.state is DeadlineState.WARNED
    assert check(deadline, at("2025-01-31T11:00"))[1] == ()  # idempotent

    deadline, events = check(deadline, at("2025-02-01T10:00"))
    (breached,) = events
    assert isinstance(breached, DeadlineBreached) and breached.notify == ("supervisor",)
    assert deadline.state is DeadlineState.BREACHED

    deadline, events = check(deadline, at("2025-02-02T09:59"))
    assert events == ()
    deadline, events = check(deadline, at("2025-02-02T10:00"))  # breach+1d
    (escalated,) = events
    assert isinstance(escalated, DeadlineEscalated)
    assert (escalated.level, escalated.notify) == ("breach+1d", ("centre_manager",))
    assert check(deadline, at("2025-02-05T10:00"))[1] == ()


def test_a_late_check_reports_the_breach_not_a_stale_warning(seed):
    deadline, _ = open_complaint(seed)
    deadline, events = check(deadline, at("2025-02-03T00:00"))
    assert [type(e) for e in events] == [DeadlineBreached, DeadlineEscalated]
    assert deadline.warned_at is None


def test_met_on_time_and_late(seed):
    deadline, _ = open_complaint(seed)
    met, (event,) = meet(deadline, at("2025-01-30T15:00"))
    assert met.state is DeadlineState.MET
    assert isinstance(event, DeadlineMet) and event.on_time and event.late_by == timedelta()

    breached, _ = check(deadline, at("2025-02-01T12:00"))
    met, (event,) = meet(breached, at("2025-02-01T13:00"))
    assert not event.on_time and event.late_by == timedelta(hours=3)


def test_closed_deadlines_stay_closed(seed):
    deadline, _ = open_complaint(seed)
    met, _ = meet(deadline, at("2025-01-28T10:00"))
    assert check(met, at("2025-02-05T10:00")) == (met, ())
    with pytest.raises(InvalidTransition):
        meet(met, at("2025-01-29T10:00"))
    with pytest.raises(InvalidTransition):
        cancel(met, at("2025-01-29T10:00"), "dup")


def test_cancel(seed):
    deadline, _ = open_complaint(seed)
    cancelled, (event,) = cancel(deadline, at("2025-01-28T10:00"), "ticket withdrawn")
    assert cancelled.state is DeadlineState.CANCELLED
    assert isinstance(event, DeadlineCancelled) and event.reason == "ticket withdrawn"


def test_pause_and_resume_move_the_due_time(seed):
    deadline, _ = open_complaint(seed)
    paused, (event,) = pause(deadline, at("2025-01-28T10:00"), "waiting for the customer")
    assert paused.state is DeadlineState.PAUSED and isinstance(event, DeadlinePaused)
    # the clock is stopped: no warning or breach while paused
    assert check(paused, at("2025-02-01T11:00"))[1] == ()

    resumed, (event,) = resume(paused, at("2025-01-30T10:00"))
    assert isinstance(event, DeadlineResumed)
    assert event.paused_for == timedelta(days=2)
    assert resumed.state is DeadlineState.OPEN
    assert (resumed.due_at, resumed.warn_at) == (at("2025-02-03T10:00"), at("2025-02-02T10:00"))
    assert check(resumed, at("2025-02-01T11:00"))[1] == ()  # would have breached unpaused


def test_a_warning_sent_before_a_pause_is_not_sent_again(seed):
    deadline, _ = open_complaint(seed)
    warned, _ = check(deadline, at("2025-01-31T10:30"))
    paused, _ = pause(warned, at("2025-01-31T11:00"), "waiting")
    resumed, _ = resume(paused, at("2025-01-31T15:00"))
    assert resumed.state is DeadlineState.WARNED
    assert resumed.due_at == at("2025-02-01T14:00")
    assert check(resumed, at("2025-02-01T13:00"))[1] == ()


def test_met_while_paused_closes_the_pause(seed):
    deadline, _ = open_complaint(seed)
    paused, _ = pause(deadline, at("2025-01-31T00:00"), "waiting")
    met, (event,) = meet(paused, at("2025-02-02T00:00"))
    assert event.on_time and met.due_at == at("2025-02-03T10:00")


def test_pause_is_refused_for_non_pausable_or_breached_limits(seed):
    answer, _ = open_deadline(
        deadline_id="d-2",
        ticket_id="T-2",
        limit=seed.limit("call.answer"),
        policy=seed.ref,
        opened_at=at("2025-01-27T10:00"),
    )
    with pytest.raises(InvalidTransition, match="not pausable"):
        pause(answer, at("2025-01-27T10:00:05"), "hold")
    deadline, _ = open_complaint(seed)
    with pytest.raises(InvalidTransition, match="breached"):
        pause(deadline, at("2025-02-01T10:00"), "too late")
    breached, _ = check(deadline, at("2025-02-01T10:00"))
    with pytest.raises(InvalidTransition):
        pause(breached, at("2025-02-01T11:00"), "too late")
    with pytest.raises(InvalidTransition):
        resume(deadline, at("2025-01-28T10:00"))


def test_transition_times_must_be_aware_and_after_opening(seed):
    deadline, _ = open_complaint(seed)
    with pytest.raises(ValueError, match="naive"):
        check(deadline, datetime(2025, 1, 30, 10, 0))
    with pytest.raises(ValueError, match="before"):
        check(deadline, at("2025-01-26T10:00"))
