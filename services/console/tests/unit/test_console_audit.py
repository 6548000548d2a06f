"""The supervisor's list of confidential reads: casework's and records' audits side by side."""

from brightline.console.api.audit import _read

AT = "2026-12-07T09:00:00+00:00"


def row(**extra):
    return {"at": AT, "reader": "cw-1", "roles": ["caseworker"], "granted": True, **extra}


def test_a_reports_contact_read_is_its_whistle_blowers_any_other_a_callers():
    report = _read("casework", row(case_type="report", ticket_no="2026120700000001"))
    complaint = _read("casework", row(case_type="complaint"))
    assert (report.what, report.ticket_no, report.source) == (
        "reporter_contact",
        "2026120700000001",
        "casework",
    )
    assert complaint.what == "customer_contact"


def test_records_reads_keep_their_action():
    timeline = _read("records", row(action="timeline", ticket_id="t-1", granted=False))
    assert (timeline.what, timeline.ticket_id, timeline.granted) == ("timeline", "t-1", False)
