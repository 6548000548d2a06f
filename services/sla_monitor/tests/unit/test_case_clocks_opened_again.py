"""A case's clocks opened again by a step back.

- 审核: the first-ask owner sends a department's reply back (退回重办). The owner's answer clock
  (first_ask.answer, opened by the reply) stops, and the next reply opens one of its own; the
  customer's reply clock runs on through both.
- 回退: a department hands a case back to the centre. The transfer is owed again, on a clock of
  its own from the return (the first one was met when the case first went out); the customer's
  reply clock runs on, neither met nor opened again."""

from datetime import datetime, timedelta

from brightline.calendar import business_tz
from brightline.contracts import new_event
from brightline.contracts.events.casework import CaseStatusChangedV1
from brightline.sla_monitor.domain.monitor import Cancel, Meet, Open, open_tracked
from brightline.sla_monitor.domain.policy import PolicyBook, load_pack
from brightline.sla_monitor.translate import inputs_for

SH = business_tz()
T0 = datetime(2025, 3, 3, 10, 0, tzinfo=SH)  # a Monday
BOOK = PolicyBook([load_pack("seed")])


def changed(
    status: str, previous: str, at: datetime, reply_round: int = 0, transfer_round: int = 0
):
    return new_event(
        CaseStatusChangedV1(
            case_id="c1",
            ticket_id="t1",
            case_type="complaint",
            status=status,
            previous_status=previous,
            changed_at=at,
            actor="agent-1001",
            department_id="dept-marketing",
            reply_round=reply_round,
            transfer_round=transfer_round,
        ),
        source="test",
    )


def test_a_sent_back_reply_stops_the_answer_clock_and_the_next_reply_opens_its_own():
    first = [
        i
        for i in inputs_for(changed("replied", "investigating", T0, 1), BOOK)
        if isinstance(i, Open)
    ]
    assert [(o.limit_key, o.round) for o in first] == [("first_ask.answer", 0)]

    sent_back = inputs_for(changed("investigating", "replied", T0 + timedelta(hours=1), 1), BOOK)
    cancels = [i for i in sent_back if isinstance(i, Cancel)]
    assert [(c.limit_keys, c.subject_id) for c in cancels] == [(("first_ask.answer",), "c1")]
    # The customer's reply clock is not touched: the complaint still owes its reply.
    assert not [i for i in sent_back if isinstance(i, Open)]
    assert all(
        "complaint.reply" not in (i.limit_keys or ()) for i in sent_back if isinstance(i, Meet)
    )

    again_at = T0 + timedelta(days=1)
    second = [
        i
        for i in inputs_for(changed("replied", "investigating", again_at, 2), BOOK)
        if isinstance(i, Open)
    ]
    assert [(o.limit_key, o.round) for o in second] == [("first_ask.answer", 1)]
    opened_first, _ = open_tracked(first[0], BOOK)
    opened_second, _ = open_tracked(second[0], BOOK)
    assert opened_second.deadline_id != opened_first.deadline_id  # not the cancelled one
    # Tuesday 10:00 + 2 working days.
    assert opened_second.deadline.due_at == datetime(2025, 3, 6, 10, 0, tzinfo=SH)


def test_moving_on_to_an_investigation_from_accepted_cancels_nothing():
    assert not [
        i
        for i in inputs_for(changed("investigating", "accepted", T0, 0), BOOK)
        if isinstance(i, Cancel)
    ]


def test_each_return_opens_a_transfer_clock_of_its_own_and_the_next_transfer_meets_it():
    opened = inputs_for(changed("opened", "accepted", T0, transfer_round=1), BOOK)
    assert [(i.limit_key, i.round) for i in opened if isinstance(i, Open)] == [
        ("complaint.transfer", 1)
    ]
    # The customer's reply clock is neither met nor opened again.
    assert not [i for i in opened if isinstance(i, Meet)]
    first, _ = open_tracked(opened[0], BOOK)
    # Complaints are passed on at once (立即, 3.2): the limit counts in hours from the return.
    assert first.deadline.due_at > T0 and first.deadline.due_at - T0 < timedelta(days=1)

    twice = inputs_for(
        changed("opened", "investigating", T0 + timedelta(days=1), transfer_round=2), BOOK
    )
    [again] = [i for i in twice if isinstance(i, Open)]
    second, _ = open_tracked(again, BOOK)
    assert second.deadline_id != first.deadline_id

    moved_on = inputs_for(
        changed("transferred", "opened", T0 + timedelta(hours=2), transfer_round=1), BOOK
    )
    assert [m.limit_keys for m in moved_on if isinstance(m, Meet)] == [
        ("case.transfer", "complaint.transfer", "report.transfer")
    ]


def test_a_case_opened_by_intake_opens_no_transfer_clock_on_a_status_change():
    # Only a move back to opened from a department is a return.
    assert not [
        i for i in inputs_for(changed("transferred", "opened", T0), BOOK) if isinstance(i, Open)
    ]
