"""The shared rules file parses, refuses what it cannot mean, and says who finds a report."""

import pytest

from brightline.confidentiality import Confidentiality, RulesError, Viewer, load_confidentiality


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


def test_found_by_is_checked_like_contact_readers():
    with pytest.raises(RulesError, match="found_by"):
        Confidentiality.from_dict(
            {"case_types": {"default": {}, "report": {"found_by": [{"department": "handling"}]}}}
        )
    rules = Confidentiality.from_dict(
        {
            "case_types": {
                "default": {},
                "report": {"found_by": [{"role": "agent", "first_ask_owner": True}]},
            }
        }
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
