"""The shipped confidentiality rules, evaluated per role."""

from datetime import UTC, datetime

from brightline.casework.domain.confidentiality import Viewer
from brightline.casework.domain.model import Case
from brightline.casework.rules import load_confidentiality

RULES = load_confidentiality()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def case(case_type="report", department_id="dept-a", reported_party="李四") -> Case:
    c = Case.open(
        id="c1",
        ticket_id="t1",
        ticket_no=None,
        case_type=case_type,
        opened_at=T0,
        first_ask_owner="agent-7",
        description="d",
        transfer_due=None,
        reported_party=reported_party,
    )
    c.department_id = department_id
    return c


def viewer(role, subject="u1", department_id=None, name=None, staff_no=None) -> Viewer:
    return Viewer(
        subject=subject,
        roles=frozenset({role}),
        name=name,
        staff_no=staff_no,
        department_id=department_id,
    )


def test_report_identity_only_for_supervisor_and_handling_department():
    report = case()
    assert RULES.may_read_contact(report, viewer("supervisor"))
    assert RULES.may_read_contact(report, viewer("caseworker", department_id="dept-a"))
    assert not RULES.may_read_contact(report, viewer("caseworker", department_id="dept-b"))
    assert not RULES.may_read_contact(
        report, viewer("agent", subject="agent-7")
    )  # not even the first-ask owner
    assert not RULES.may_read_contact(report, viewer("crew"))


def test_complaint_identity_also_for_its_first_ask_owner():
    complaint = case("complaint", reported_party=None)
    assert RULES.may_read_contact(complaint, viewer("agent", subject="agent-7"))
    assert not RULES.may_read_contact(complaint, viewer("agent", subject="agent-8"))


def test_named_staff_never_see_the_report_by_subject_name_or_staff_number():
    report = case()
    for named in (
        viewer("caseworker", department_id="dept-a", name="李四"),
        viewer("supervisor", subject="李四"),
        viewer("agent", staff_no="李四"),
    ):
        assert not RULES.may_see_case(report, named)
        assert not RULES.may_read_contact(report, named)
    assert RULES.may_see_case(report, viewer("caseworker", department_id="dept-a", name="王五"))


def test_caseworkers_see_only_their_departments_cases():
    assert not RULES.may_see_case(case("suggestion"), viewer("caseworker", department_id="dept-b"))
    assert RULES.may_see_case(case("suggestion"), viewer("agent"))
