"""The shared rules file parses, refuses what it cannot mean, and says who finds a report."""

import pytest

from brightline.confidentiality import (
    Confidentiality,
    ConfidentialityFile,
    Viewer,
    load_confidentiality,
)
from brightline.platform.rulefile import RuleFileError, parse_rules


class Case:
    def __init__(self, case_type="report", department_id="d1", first_ask_owner="a1", party=None):
        self.case_type = case_type
        self.department_id = department_id
        self.first_ask_owner = first_ask_owner
        self.reported_party = party


def test_the_shipped_rules_restrict_finding_reports_only():
    rules = load_confidentiality()
    assert rules.restricted("report")
    assert not any(rules.restricted(t) for t in ("complaint", "opinion", "praise"))
    assert rules.rule_for("report").identity_shown is False
    assert rules.rule_for("complaint").identity_shown is True


def rules_of(text: str) -> Confidentiality:
    return Confidentiality.from_file(parse_rules(ConfidentialityFile, text, "c.yaml"))


def test_found_by_is_checked_like_contact_readers():
    with pytest.raises(RuleFileError) as caught:
        rules_of(
            "case_types:\n  default: {}\n  report:\n    found_by:\n      - {department: handling}\n"
        )
    [problem] = caught.value.problems
    assert (problem.path, problem.line) == ("case_types.report.found_by[0].role", 5)
    assert str(caught.value) == "c.yaml: line 5: case_types.report.found_by[0].role: Field required"
    rules = rules_of(
        "case_types:\n  default: {}\n  report:\n"
        "    found_by: [{role: agent, first_ask_owner: true}]\n"
    )
    assert rules.may_find(Case(), Viewer("a1", frozenset({"agent"})))
    assert not rules.may_find(Case(), Viewer("a2", frozenset({"agent"})))
    assert not rules.may_find(Case(), Viewer("s1", frozenset({"supervisor"})))


def test_without_found_by_finding_is_seeing_the_case():
    rules = load_confidentiality()
    complaint = Case("complaint", party="王五")
    assert rules.may_find(complaint, Viewer("a9", frozenset({"agent"})))
    assert not rules.may_find(complaint, Viewer("w5", frozenset({"agent"}), name="王 五"))
    assert not rules.may_find(
        complaint, Viewer("c1", frozenset({"caseworker"}), department_id="d2")
    )
