"""Every text an agent or a customer is given — greetings, situation lines, call scripts, closings,
no-ticket outcomes, callback scripts, the phrase book's suggested wordings and the repeat-call
progress lines — in Chinese uses full-width punctuation, doubles no word and says no forbidden
service phrase (issue 15, "Must show"). Texts are read from the shipped rules data, and the
composed ones (closings, callback scripts) are rendered for every case."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from brightline.callback.adapters.rule_files import callback_script_rules
from brightline.callback.domain.scripts import callback_script
from brightline.etiquette import default_book
from brightline.intake.adapters.rule_files import call_outcomes, greeting_rules
from brightline.intake.api.routes_util import PROGRESS_ZH
from brightline.intake.domain.greetings import REPLY_UNITS, ReplyPromise

INTAKE_RULES = Path(__import__("brightline.intake.rules", fromlist=["x"]).__file__).parent
CALLBACK_RULES_FILE = (
    Path(__import__("brightline.callback.rules", fromlist=["x"]).__file__).parent
    / "callback_script.yaml"
)
ETIQUETTE_RULES = Path(__import__("brightline.etiquette", fromlist=["x"]).__file__).parent

HALF_WIDTH = re.compile(r"[,?!;]|(?<!\d):|:(?!\d)|[()]")
# Reduplications that are words of their own, not a doubled word.
REDUPLICATED = {"谢谢", "看看", "稍稍", "常常", "刚刚", "慢慢", "好好", "试试", "渐渐"}
CJK = r"[\u4e00-\u9fff]"


def zh_texts(node, where: str = "") -> list[tuple[str, str]]:
    """Every Chinese string under a `zh` key, or a plain string in a Chinese-only list."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "zh" and isinstance(value, str):
                found.append((f"{where}.zh", value))
            else:
                found += zh_texts(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += zh_texts(value, f"{where}[{i}]")
    return found


def load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def rendered_closings() -> list[tuple[str, str]]:
    rules = greeting_rules()
    kinds = ["general", "complaint", "report", "opinion", "suggestion", "praise", "repair"]
    out = []
    for kind in kinds:
        out.append((f"closing.{kind}", rules.closing("zh", kind)))
        for unit in REPLY_UNITS:
            out.append((f"closing.{kind}.{unit}", rules.closing("zh", kind, ReplyPromise(5, unit))))
    out.append(("closing.goodbye", rules.closing_words.goodbye.zh))
    return out


def rendered_callbacks() -> list[tuple[str, str]]:
    out = []
    for ticket_type in callback_script_rules().matter:
        for name, staff, result in (("张三", "1024", "已为您更换电表"), (None, None, None)):
            script = callback_script(
                callback_script_rules(),
                ticket_type=ticket_type,
                called_day=date(2026, 3, 2),
                customer_name=name,
                unit_name="杭州供电公司",
                staff_no=staff,
                result=result,
            )
            out += [(f"callback.{ticket_type}.{s['id']}", s["zh"]) for s in script["steps"]]
            out += [(f"callback.{ticket_type}.reminder", r["zh"]) for r in script["reminders"]]
    return out


def all_texts() -> list[tuple[str, str]]:
    texts = zh_texts(load(INTAKE_RULES / "greetings.yaml"), "greetings")
    for script in sorted((INTAKE_RULES / "scripts").glob("*.yaml")):
        texts += zh_texts(load(script), f"scripts/{script.stem}")
    book = call_outcomes()
    texts += zh_texts(load(INTAKE_RULES / "call_outcomes.yaml"), "call_outcomes")
    texts += [(f"call_outcomes.{o}.said", book.say(o)) for o in book.outcomes]
    texts += zh_texts(load(CALLBACK_RULES_FILE), "callback_script")
    texts += rendered_closings() + rendered_callbacks()
    texts += [(f"progress.{k}", v) for k, v in PROGRESS_ZH.items()]
    texts += [
        (f"phrase suggestion for {e.phrase}", e.suggestion)
        for e in default_book().entries
        if e.suggestion and re.search(CJK, e.suggestion)
    ]
    return [(where, text) for where, text in texts if re.search(CJK, text)]


TEXTS = all_texts()


def test_the_collection_covers_every_kind_of_text():
    wheres = {w.split(".")[0].split("/")[0] for w, _ in TEXTS}
    assert {"greetings", "scripts", "closing", "callback", "call_outcomes"} <= wheres
    assert len(TEXTS) > 300


@pytest.mark.parametrize(("where", "text"), TEXTS, ids=[w for w, _ in TEXTS])
def test_chinese_text_uses_full_width_punctuation(where, text):
    assert not HALF_WIDTH.search(text), f"{where}: half-width punctuation in {text!r}"


@pytest.mark.parametrize(("where", "text"), TEXTS, ids=[w for w, _ in TEXTS])
def test_no_doubled_word(where, text):
    for size in (1, 2, 3):
        for m in re.finditer(rf"({CJK}{{{size}}})\1", text):
            assert m.group(0) in REDUPLICATED, f"{where}: doubled {m.group(0)!r} in {text!r}"
    for sentence in re.split("[。？！]", text):
        assert sentence.count("并") <= 1, f"{where}: 并 twice in one sentence: {text!r}"


@pytest.mark.parametrize(("where", "text"), TEXTS, ids=[w for w, _ in TEXTS])
def test_no_forbidden_phrase(where, text):
    # The phrase book's suggested wordings are checked too: an alternative must itself be polite.
    assert default_book().check(text) == [], f"{where}: forbidden phrase in {text!r}"
