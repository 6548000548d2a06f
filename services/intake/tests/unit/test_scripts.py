"""Call scripts over the shipped rules/scripts/*.yaml."""

import pytest

from brightline.intake.adapters.rule_files import scripts
from brightline.intake.domain.scripts import FIELD_NAMES, TICKET_TYPES, InvalidAnswer

REQUIRED_FIELDS = scripts().required_fields()
OPTIONAL_FIELDS = scripts().optional_fields()


@pytest.fixture(scope="module")
def book():
    return scripts()


CONTACT = {"caller_name": "王先生", "phone": "13800000000"}
REPAIR_BASE = {
    "fault_started_at": "2025-03-12T08:00+08:00",
    "address": "杭州市西湖区文三路1号",
    **CONTACT,
    "description": "家里突然没电",
    "repeat_of_open_ticket": False,
}


def test_every_ticket_type_has_a_script(book):
    assert {s.ticket_type for s in book} == set(TICKET_TYPES)
    assert set(REQUIRED_FIELDS) == set(TICKET_TYPES)


def test_required_fields_per_ticket_type():
    assert REQUIRED_FIELDS["repair"] == [
        "caller_name",
        "phone",
        "address",
        "fault_scope",
        "fault_started_at",
        "description",
    ]
    assert REQUIRED_FIELDS["complaint"] == [
        "caller_name",
        "phone",
        "complaint_subtype",
        "description",
    ]
    assert "complaint_grade" in OPTIONAL_FIELDS["complaint"]
    assert REQUIRED_FIELDS["report"] == ["description"]  # anonymous reports allowed
    for fields in (*REQUIRED_FIELDS.values(), *OPTIONAL_FIELDS.values()):
        assert set(fields) <= set(FIELD_NAMES)


def test_script_version_is_recorded_on_every_step(book):
    repair = book.get("repair")
    assert repair.ref == f"repair@{repair.version}"
    assert repair.advance({}).script_ref == repair.ref
    assert repair.advance({**REPAIR_BASE, "fault_scope": "building"}).script_ref == repair.ref


def test_repair_starts_by_asking_the_scope(book):
    step = book.get("repair").advance({})
    assert step.node_id == "scope" and step.key == "fault_scope" and step.is_field
    assert [c.value for c in step.choices] == ["own_home", "building", "area"]
    assert "只有您一家停电" in step.prompt
    assert step.outcome is None


def test_repair_asks_time_address_name_phone_in_order(book):
    repair = book.get("repair")
    answers: dict = {"fault_scope": "own_home"}
    asked = []
    for field, value in [
        ("fault_started_at", "08:00"),
        ("address", "文三路1号"),
        ("caller_name", "王先生"),
        ("phone", "13800000000"),
    ]:
        step = repair.advance(answers)
        asked.append(step.key)
        answers[field] = value
    assert asked == ["fault_started_at", "address", "caller_name", "phone"]


def test_required_fields_are_reported_while_missing(book):
    repair = book.get("repair")
    assert repair.advance({}).fields_required == REQUIRED_FIELDS["repair"]
    step = repair.advance({"fault_scope": "building", "fault_started_at": "08:00", "address": "x"})
    assert step.fields_required == ["caller_name", "phone", "description"]
    # An empty answer does not count.
    assert "address" in repair.advance({"fault_scope": "area", "address": "  "}).fields_required


def test_repair_own_home_fixed_by_self_check_is_resolved_without_ticket(book):
    repair = book.get("repair")
    step = repair.advance({**REPAIR_BASE, "fault_scope": "own_home"})
    assert step.node_id == "self_check"
    assert "开关是否跳闸" in step.prompt and "保险是否烧断" in step.prompt
    step = repair.advance({**REPAIR_BASE, "fault_scope": "own_home", "self_check_fixed": True})
    assert step.outcome.kind == "resolved_on_call"
    assert step.outcome.ticket_type is None and step.fields_required == []


def test_repair_caller_checks_later_gets_self_check_guidance(book):
    step = book.get("repair").advance(
        {**REPAIR_BASE, "fault_scope": "own_home", "self_check_fixed": "later"}
    )
    assert step.outcome.kind == "self_check_guidance" and step.outcome.ticket_type is None


def test_repair_fault_in_own_installation_is_referred_to_paid_service_without_ticket(book):
    repair = book.get("repair")
    answers = {**REPAIR_BASE, "fault_scope": "own_home", "self_check_fixed": False}
    step = repair.advance(answers)
    assert step.node_id == "own_installation" and step.agent_only
    step = repair.advance({**answers, "fault_in_customer_installation": True})
    assert step.outcome.kind == "paid_service_referral"
    assert step.outcome.ticket_type is None
    assert "有资质的维修队伍" in step.prompt and "有偿服务" in step.prompt


def test_repair_own_home_not_own_installation_creates_repair_ticket(book):
    step = book.get("repair").advance(
        {
            **REPAIR_BASE,
            "fault_scope": "own_home",
            "self_check_fixed": False,
            "fault_in_customer_installation": False,
        }
    )
    assert (step.outcome.kind, step.outcome.ticket_type) == ("create_ticket", "repair")
    assert step.fields_required == []


def test_repair_area_creates_repair_ticket_at_once(book):
    step = book.get("repair").advance({**REPAIR_BASE, "fault_scope": "area"})
    assert (step.outcome.kind, step.outcome.ticket_type) == ("create_ticket", "repair")
    assert "self_check" not in step.path
    assert step.fields_required == []


def test_a_building_or_one_main_switch_goes_through_the_breaker_check(book):
    """Issue 15 point 10 (004 §3.1 1): 一个单元楼或由一个总开关控制的用户停电 -> check first."""
    repair = book.get("repair")
    step = repair.advance({**REPAIR_BASE, "fault_scope": "building"})
    assert step.node_id == "self_check"
    fixed = repair.advance({**REPAIR_BASE, "fault_scope": "building", "self_check_fixed": True})
    assert fixed.outcome.kind == "resolved_on_call"
    not_fixed = {
        **REPAIR_BASE,
        "fault_scope": "building",
        "self_check_fixed": False,
        "fault_in_customer_installation": False,
    }
    assert repair.advance(not_fixed).outcome.ticket_type == "repair"


def test_the_script_asks_when_the_power_went_off(book):
    answers = {**REPAIR_BASE, "fault_scope": "area"}
    del answers["fault_started_at"]
    assert book.get("repair").advance(answers).node_id == "started"


def test_repair_outcome_still_lists_missing_fields(book):
    answers = {**REPAIR_BASE, "fault_scope": "building", "phone": None}
    step = book.get("repair").advance(answers)
    # phone answered as None (declined): the script stops there, it is required.
    assert step.node_id == "phone" and "phone" in step.fields_required


def test_repeat_repair_call_is_a_consultation_linked_to_the_open_order(book):
    step = book.get("repair").advance(
        {**REPAIR_BASE, "fault_scope": "own_home", "repeat_of_open_ticket": True}
    )
    assert (step.outcome.kind, step.outcome.ticket_type) == ("link_to_existing", "consultation")
    assert "正在处理中" in step.prompt
    assert step.fields_required == []


def test_agitated_caller_is_transferred_from_any_point(book):
    for script in book:
        step = script.advance({"caller_agitated": True})
        assert step.outcome.kind == "transfer_supervisor", script.id
        assert "值班长" in step.prompt


def test_invalid_choice_is_refused(book):
    with pytest.raises(InvalidAnswer) as err:
        book.get("repair").advance({"fault_scope": "whole_city"})
    assert err.value.key == "fault_scope"


def test_english_prompts(book):
    step = book.get("repair").advance({}, language="en")
    assert step.prompt.startswith("Is it only your home")
    assert step.choices[0].label == "Only my home"


def test_complaint_path(book):
    complaint = book.get("complaint")
    first = complaint.advance({})
    assert first.key == "description" and "您先别急" in first.prompt
    step = complaint.advance({"description": "营业厅工作人员态度恶劣"})
    assert step.key == "complaint_subtype"
    assert [c.value for c in step.choices] == [
        "service",
        "business",
        "outage",
        "supply_quality",
        "grid_construction",
    ]
    answers = {
        "description": "营业厅工作人员态度恶劣",
        "complaint_subtype": "service",
        "reported_party": "文三路营业厅",
        "address": None,  # declined: optional
        **CONTACT,
        "repeat_of_open_ticket": False,
    }
    step = complaint.advance(answers)
    assert step.key == "complaint_grade" and step.optional
    step = complaint.advance({**answers, "complaint_grade": None})
    assert (step.outcome.kind, step.outcome.ticket_type) == ("create_ticket", "complaint")
    assert step.fields_required == []
    graded = complaint.advance({**answers, "complaint_grade": "important"})
    assert graded.outcome.kind == "create_ticket"


def test_complaint_missing_subtype_is_reported(book):
    step = book.get("complaint").advance({"description": "x"})
    assert "complaint_subtype" in step.fields_required


def test_complaint_already_in_progress_is_linked(book):
    step = book.get("complaint").advance(
        {
            "description": "x",
            "complaint_subtype": "outage",
            "reported_party": None,
            "address": None,
            **CONTACT,
            "repeat_of_open_ticket": True,
        }
    )
    assert step.outcome.kind == "link_to_existing"
    assert step.prompt == "您反映的问题正在处理当中，我们会尽快给您答复，请多谅解。"


def test_report_offers_anonymity_and_needs_no_identity(book):
    report = book.get("report")
    first = report.advance({})
    assert first.key == "anonymous" and "匿名" in first.prompt and "保密" in first.prompt
    step = report.advance({"anonymous": True})
    assert step.key == "reported_party"
    step = report.advance(
        {"anonymous": True, "reported_party": "某抄表员", "description": "收取好处费"}
    )
    assert (step.outcome.kind, step.outcome.ticket_type) == ("create_ticket", "report")
    assert step.fields_required == []
    assert "caller_name" not in step.path and "name" not in step.path


def test_named_report_asks_name_and_phone(book):
    step = book.get("report").advance({"anonymous": False})
    assert step.key == "caller_name"


@pytest.mark.parametrize("kind", ["opinion", "suggestion"])
def test_opinion_and_suggestion_explain_policy_conflict_and_still_record(book, kind):
    script = book.get(kind)
    base = {"description": "希望延长营业厅时间", **CONTACT}
    assert script.advance({**base, "conflicts_with_policy": False}).outcome.ticket_type == kind
    explain = script.advance({**base, "conflicts_with_policy": True})
    assert "请您理解和支持" in explain.prompt
    for insists in (True, False):
        step = script.advance({**base, "conflicts_with_policy": True, "caller_insists": insists})
        assert (step.outcome.kind, step.outcome.ticket_type) == ("create_ticket", kind)


@pytest.mark.parametrize("kind", ["consultation", "service_request", "praise"])
def test_other_scripts_end_in_their_own_ticket(book, kind):
    script = book.get(kind)
    answers: dict = {}
    for _ in range(20):
        step = script.advance(answers)
        if step.done:
            break
        answers[step.key] = step.choices[0].value if step.choices else "x"
    assert (step.outcome.kind, step.outcome.ticket_type) == ("create_ticket", kind)
    assert step.fields_required == []


def test_unknown_ticket_type(book):
    with pytest.raises(KeyError):
        book.get("weather")
