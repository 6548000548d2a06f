"""The case lifecycle as a pure model: transitions, who may act, the history it keeps."""

from datetime import UTC, datetime, timedelta

import pytest

from brightline.casework.domain import events
from brightline.casework.domain.model import Case, IllegalTransition, NotYourCase, names_match

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def new_case(case_type="complaint") -> Case:
    return Case.open(
        id="c1",
        ticket_id="t1",
        ticket_no="N1",
        case_type=case_type,
        opened_at=T0,
        first_ask_owner="agent-7",
        description="d",
        transfer_due=T0 + timedelta(days=1),
    )


def test_complaint_goes_round_the_loop_and_reopens_keeping_history():
    case = new_case()
    case.transfer(department_id="dept-a", actor="agent-7", at=T0)
    case.accept(actor="cw-1", at=T0, actor_department="dept-a")
    case.investigate(actor="cw-1", at=T0, note="n", actor_department="dept-a")
    case.reply(text="r", actor="cw-1", at=T0, actor_department="dept-a")
    case.answer(text="a", actor="agent-7", at=T0)
    case.reopen(reason="unsatisfied", actor="callback", at=T0)
    assert case.status == "reopened" and case.reopen_count == 1
    assert [s.action for s in case.history] == [
        "open",
        "transfer",
        "accept",
        "investigate",
        "reply",
        "answer",
        "reopen",
    ]
    changes = [e for e in case.events if isinstance(e, events.CaseStatusChanged)]
    assert [(e.previous_status, e.status) for e in changes] == [
        ("opened", "transferred"),
        ("transferred", "accepted"),
        ("accepted", "investigating"),
        ("investigating", "replied"),
        ("replied", "answered"),
        ("answered", "reopened"),
    ]
    assert isinstance(case.events[0], events.CaseOpened)


def test_illegal_moves_say_where_they_may_start():
    case = new_case()
    with pytest.raises(IllegalTransition) as error:
        case.reply(text="r", actor="cw-1", at=T0, actor_department=None)
    assert error.value.allowed == ["accepted", "investigating"]
    with pytest.raises(IllegalTransition):
        case.answer(
            text="a", actor="agent-7", at=T0
        )  # a complaint needs the department's reply first
    with pytest.raises(IllegalTransition):
        case.reopen(reason="x", actor="callback", at=T0)


def test_only_the_handling_department_accepts():
    case = new_case()
    case.transfer(department_id="dept-a", actor="agent-7", at=T0)
    with pytest.raises(NotYourCase):
        case.accept(actor="cw-9", at=T0, actor_department="dept-b")
    case.accept(actor="sup-1", at=T0, actor_department=None)  # a supervisor acts for the department
    assert case.status == "accepted"


def test_praise_may_be_answered_by_the_first_ask_owner_at_once():
    case = new_case("praise")
    case.answer(text="感谢您的表扬", actor="agent-7", at=T0)
    assert case.status == "answered"


def test_reminder_and_escalation_are_recorded_without_changing_status():
    case = new_case()
    case.note_reminder(limit_key="complaint.reply", due_at=T0, at=T0)
    case.note_escalation(limit_key="complaint.reply", level="breach", due_at=T0, at=T0)
    assert case.status == "opened"
    assert [s.action for s in case.history] == ["open", "remind", "escalate"]
    assert isinstance(case.events[-1], events.CaseEscalated)


def test_names_match_ignores_case_and_spaces():
    assert names_match("李 四", "李四")
    assert names_match("S-0042", None, "s-0042")
    assert not names_match("李四", "李四四", None)
    assert not names_match(None, "李四")


def test_a_reply_sent_back_waits_for_a_new_one():
    from brightline.casework.domain.model import awaiting_new_reply

    assert not awaiting_new_reply([])
    assert not awaiting_new_reply(["reply"])
    assert awaiting_new_reply(["reply", "send_back"])
    assert not awaiting_new_reply(["reply", "send_back", "reply"])


def test_a_department_returns_a_case_to_the_centre_which_transfers_it_anew():
    case = new_case()
    case.transfer(department_id="dept-a", actor="agent-1", at=T0)
    due = T0 + timedelta(hours=2)
    with pytest.raises(NotYourCase):
        case.return_to_centre(
            reason="不属本部门", actor="cw-b", at=T0, actor_department="dept-b", transfer_due=due
        )
    case.return_to_centre(
        reason="不属本部门", actor="cw-a", at=T0, actor_department="dept-a", transfer_due=due
    )
    assert (case.status, case.department_id, case.transfer_due) == ("opened", None, due)
    assert case.transfer_round == 1
    # The step and its event name the department that returned it.
    assert (case.history[-1].action, case.history[-1].department_id) == ("return", "dept-a")
    assert case.events[-1].department_id == "dept-a"
    # Nothing to return once returned; the centre transfers it again.
    with pytest.raises(IllegalTransition):
        case.return_to_centre(
            reason="x", actor="sup", at=T0, actor_department=None, transfer_due=due
        )
    case.transfer(department_id="dept-c", actor="sup", at=T0)
    assert (case.status, case.department_id) == ("transferred", "dept-c")
