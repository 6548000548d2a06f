"""Where `make run`'s demo supervisor transfers a case: a business complaint to 营销部, the rest
to the first department of its type, and never back to a department that returned it (回退)."""

from brightline.console.demo import department_for


def test_the_demo_supervisor_never_sends_a_case_back_where_it_was_returned_from():
    billing = {"case_type": "complaint", "complaint_subtype": "business"}
    assert department_for(billing) == "dept-marketing"
    returned = {**billing, "returned": {"department_id": "dept-marketing", "at": "2026-12-07"}}
    assert department_for(returned) == "dept-service"
    report = {"case_type": "report", "returned": {"department_id": "dept-audit"}}
    assert department_for(report) is None  # nobody else handles reports: left to a person
