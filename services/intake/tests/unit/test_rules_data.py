"""The shipped rule files are sound. These fail when someone breaks the YAML."""

import copy
from importlib import resources

import pytest
import yaml

from brightline.etiquette import PhraseBook
from brightline.intake.adapters.rule_files import call_outcomes, load_greeting_rules, load_scripts
from brightline.intake.domain.call_outcomes import CallOutcomeBook
from brightline.intake.domain.greetings import GreetingRules
from brightline.intake.domain.scripts import TICKET_TYPES, ScriptError, ScriptFile
from brightline.platform.rulefile import RuleFileError, parse_rules

RULES = resources.files("brightline.intake.rules")
SCRIPT_FILES = sorted(
    f.name for f in RULES.joinpath("scripts").iterdir() if f.name.endswith(".yaml")
)


def _text(name):
    return RULES.joinpath(name).read_text("utf-8")


def _load(name):
    return yaml.safe_load(_text(name))


def _script(ticket_type):
    return _load(f"scripts/{ticket_type}.yaml")


def validate_script(data) -> list[str]:
    """The problems the loader reports for a script document."""
    try:
        parse_rules(ScriptFile, yaml.safe_dump(data, allow_unicode=True), "script.yaml")
    except RuleFileError as error:
        return [str(p) for p in error.problems]
    return []


def test_one_script_file_per_ticket_type():
    assert SCRIPT_FILES == sorted(f"{t}.yaml" for t in TICKET_TYPES)


@pytest.mark.parametrize("name", SCRIPT_FILES)
def test_shipped_script_is_valid(name):
    data = _load(f"scripts/{name}")
    assert validate_script(data) == []
    assert isinstance(data["version"], int) and data["id"] == data["ticket_type"] == name[:-5]


def greeting_problems(data) -> list[str]:
    try:
        parse_rules(GreetingRules, yaml.safe_dump(data, allow_unicode=True), "greetings.yaml")
    except RuleFileError as error:
        return [str(p) for p in error.problems]
    return []


def test_shipped_greeting_rules_are_valid():
    data = _load("greetings.yaml")
    assert greeting_problems(data) == []
    assert load_greeting_rules().version == data["version"]


def _all_texts(node, lang):
    if isinstance(node, dict):
        if lang in node and isinstance(node[lang], str):
            yield node[lang]
        for v in node.values():
            yield from _all_texts(v, lang)
    elif isinstance(node, list):
        for v in node:
            yield from _all_texts(v, lang)


@pytest.mark.parametrize("name", ["greetings.yaml", *(f"scripts/{n}" for n in SCRIPT_FILES)])
def test_shipped_texts_use_no_forbidden_phrase(name):
    book = PhraseBook.load()
    data = _load(name)
    for lang in ("zh", "en"):
        for text in _all_texts(data, lang):
            assert book.check(text) == [], text


# -- breaking a script is caught -------------------------------------------------------
def test_missing_branch_target_is_caught():
    data = _script("repair")
    data["nodes"]["scope"]["next"] = "nowhere"
    assert any("branch target 'nowhere'" in p for p in validate_script(data))


def test_missing_choice_target_is_caught():
    data = _script("repair")
    data["nodes"]["self_check"]["choices"][0]["next"] = "gone"
    assert any("'gone' does not exist" in p for p in validate_script(data))


def test_unreachable_node_is_caught():
    data = _script("repair")
    data["nodes"]["orphan"] = copy.deepcopy(data["nodes"]["resolved"])
    assert any("orphan is unreachable" in p for p in validate_script(data))


def test_missing_english_text_is_caught():
    data = _script("complaint")
    del data["nodes"]["describe"]["prompt"]["en"]
    assert any("nodes.describe.prompt.en: Field required" in p for p in validate_script(data))
    data = _script("repair")
    data["nodes"]["scope"]["choices"][1]["label"] = {"zh": "整栋楼"}
    assert any("scope.choices[1].label.en: Field required" in p for p in validate_script(data))


def test_unquoted_comma_in_flow_mapping_is_caught():
    data = yaml.safe_load("{zh: 否, en: No, or cannot tell}")
    script = _script("repair")
    script["nodes"]["own_installation"]["choices"][1]["label"] = data
    assert any("Extra inputs are not permitted" in p for p in validate_script(script))


def test_loop_is_caught():
    data = _script("praise")
    data["nodes"]["phone"]["next"] = "describe"
    problems = validate_script(data)
    assert any("loop" in p for p in problems) or any("unreachable" in p for p in problems)


def test_bad_field_value_and_unknown_field_are_caught():
    data = _script("repair")
    data["nodes"]["scope"]["choices"][0]["value"] = "my_flat"
    data["nodes"]["address"]["field"] = "adress"
    problems = validate_script(data)
    assert any("'my_flat' is not a valid fault_scope" in p for p in problems)
    assert any("unknown field 'adress'" in p for p in problems)


def test_ticket_outcome_without_ticket_type_is_caught():
    data = _script("repair")
    del data["nodes"]["create"]["outcome"]["ticket_type"]
    assert any("needs a ticket_type" in p for p in validate_script(data))


def test_required_field_never_asked_is_caught():
    data = _script("consultation")
    data["required_fields"].append("address")
    assert any("'address' is never asked" in p for p in validate_script(data))


def test_broken_script_file_fails_to_load(tmp_path):
    for t in TICKET_TYPES:
        data = _script(t)
        if t == "repair":
            data["nodes"]["scope"]["next"] = "nowhere"
        (tmp_path / f"{t}.yaml").write_text(
            yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
        )
    with pytest.raises(RuleFileError, match="repair.yaml: line"):
        load_scripts(tmp_path)
    (tmp_path / "repair.yaml").write_text(
        yaml.safe_dump(_script("repair"), allow_unicode=True), encoding="utf-8"
    )
    assert load_scripts(tmp_path).get("repair").ref.startswith("repair@")
    (tmp_path / "praise.yaml").unlink()
    with pytest.raises(ScriptError, match="praise"):
        load_scripts(tmp_path)


# -- breaking the greeting rules is caught ---------------------------------------------
def test_greeting_gap_in_time_bands_is_caught():
    data = _load("greetings.yaml")
    data["time_bands"][0]["start"] = "06:00"  # 05:00-06:00 now uncovered
    assert any("time_bands: " in p and "05:00 is in 0 bands" in p for p in greeting_problems(data))


def test_greeting_missing_english_and_missing_festival_are_caught():
    data = _load("greetings.yaml")
    del data["situations"]["wrong_number"]["lines"][0]["en"]
    del data["festivals"]["qixi"]
    problems = greeting_problems(data)
    assert any("situations.wrong_number.lines[0].en: Field required" in p for p in problems)
    assert any("festivals.qixi: Field required" in p for p in problems)


def test_greeting_silent_call_must_end_in_hang_up():
    data = _load("greetings.yaml")
    data["situations"]["silent_call"]["timed"][-1]["action"] = "say"
    assert any(
        "situations.silent_call: " in p and "end with hang_up" in p for p in greeting_problems(data)
    )


def test_greeting_opening_must_carry_staff_number(tmp_path):
    data = _load("greetings.yaml")
    data["opening"]["standard"]["zh"] = "您好，{unit}95598，请讲。"
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RuleFileError, match="opening: .*staff_no"):
        load_greeting_rules(path)


def test_a_broken_greeting_file_names_file_path_and_line(tmp_path):
    text = RULES.joinpath("greetings.yaml").read_text("utf-8")
    broken = text.replace("action: take_callback_number", "action: take_a_nap", 1)
    line = broken.splitlines().index("    action: take_a_nap") + 1
    path = tmp_path / "greetings.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_greeting_rules(path)
    [problem] = caught.value.problems
    assert caught.value.source == str(path)
    assert (problem.path, problem.line) == ("situations.system_fault.action", line)
    assert str(caught.value).startswith(f"{path}: line {line}: situations.system_fault.action: ")


def test_a_broken_script_file_names_file_path_and_line(tmp_path):
    for t in TICKET_TYPES:
        (tmp_path / f"{t}.yaml").write_text(_text(f"scripts/{t}.yaml"), encoding="utf-8")
    broken = _text("scripts/repair.yaml").replace("field: address", "field: adress", 1)
    line = broken.splitlines().index("  address:") + 1
    (tmp_path / "repair.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_scripts(tmp_path)
    [problem] = caught.value.problems
    assert caught.value.source == str(tmp_path / "repair.yaml")
    assert (problem.path, problem.line) == ("nodes.address", line)
    assert "unknown field 'adress'" in problem.message


# -- the paid-service referral is true (issue 15 d) ------------------------------------------
def _paid_service_book(**paid):
    data = _load("call_outcomes.yaml")
    data["paid_service"].update(paid)
    text = yaml.safe_dump(data, allow_unicode=True)
    return parse_rules(CallOutcomeBook, text, "call_outcomes.yaml")


def test_paid_service_referral_names_95598_and_the_provincial_fee_standard():
    said = call_outcomes().say("paid_service_referral")
    assert "95598" in said and "按省级价格主管部门核定标准收费" in said


@pytest.mark.parametrize("number", ["0571-95598-8", "400-000-0000", "12345", "955988", "95599"])
def test_paid_service_refuses_example_numbers(number):
    with pytest.raises(RuleFileError, match="paid_service.contact_number"):
        _paid_service_book(contact_number=number)


def test_paid_service_fee_standard_must_be_the_provincial_price_authoritys():
    with pytest.raises(RuleFileError, match="paid_service.fee_standard"):
        _paid_service_book(fee_standard={"zh": "按当地物价部门标准收费", "en": "local rates"})
