"""A reopened complaint or report runs with a reply deadline again (issue 15 point 8): the
reopening opens a new reply clock from the pack in force, beside the one met at the first answer."""

from datetime import datetime, timedelta

from brightline.calendar import business_tz
from brightline.contracts import new_event
from brightline.contracts.events.casework import CaseStatusChangedV1
from brightline.sla_monitor.domain.monitor import Open, open_tracked
from brightline.sla_monitor.domain.policy import PolicyBook, load_pack
from brightline.sla_monitor.translate import inputs_for

SH = business_tz()
T0 = datetime(2025, 3, 3, 10, 0, tzinfo=SH)


def changed(status: str, previous: str, at: datetime, reopen_count: int, case_type="complaint"):
    return new_event(
        CaseStatusChangedV1(
            case_id="c1",
            ticket_id="t1",
            case_type=case_type,
            status=status,
            previous_status=previous,
            changed_at=at,
            actor="callback",
            reopen_count=reopen_count,
        ),
        source="test",
    )


def test_reopening_opens_a_new_reply_clock_from_the_pack_in_force():
    book = PolicyBook([load_pack("seed")])
    reopened_at = T0 + timedelta(days=3)
    opens = [
        i
        for i in inputs_for(changed("reopened", "answered", reopened_at, 1), book)
        if isinstance(i, Open)
    ]
    assert [(o.limit_key, o.subject_id, o.at, o.round) for o in opens] == [
        ("complaint.reply", "c1", reopened_at, 1)
    ]
    first, _ = open_tracked(
        Open(
            limit_key="complaint.reply", subject_type="case", subject_id="c1", ticket_id="t1", at=T0
        ),
        book,
    )
    again, events = open_tracked(opens[0], book)
    assert again.deadline_id != first.deadline_id  # its own deadline, not the met one
    assert again.deadline.due_at == reopened_at + timedelta(days=5)  # seed: 5 calendar days
    assert [type(e).__name__ for e in events] == ["DeadlineOpened"]

    # A second reopening is a third clock; sgcc-2011 counts working days.
    twice = inputs_for(changed("reopened", "answered", reopened_at, 2), book)
    assert [o.round for o in twice if isinstance(o, Open)] == [2]
    sgcc = PolicyBook([load_pack("sgcc-2011")])
    opens = [
        i
        for i in inputs_for(changed("reopened", "answered", reopened_at, 1), sgcc)
        if isinstance(i, Open)
    ]
    tracked, _ = open_tracked(opens[0], sgcc)
    assert tracked.limit.unit == "working_days"


def test_other_statuses_and_types_open_nothing():
    book = PolicyBook([load_pack("seed")])
    assert not [
        i
        for i in inputs_for(changed("transferred", "reopened", T0, 1), book)
        if isinstance(i, Open)
    ]
    assert not [
        i
        for i in inputs_for(changed("reopened", "answered", T0, 1, case_type="suggestion"), book)
        if isinstance(i, Open)
    ]
