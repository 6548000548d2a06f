"""Intake's rule files, read from brightline/intake/rules/ and handed to the domain as models.
A broken file raises brightline.platform.rulefile.RuleFileError naming file, path and line."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from brightline.intake.domain.call_outcomes import CallOutcomeBook
from brightline.intake.domain.greetings import GreetingRules
from brightline.intake.domain.scripts import Script, ScriptBook, ScriptFile
from brightline.platform.rulefile import RuleFileError, RuleProblem, load_rule_file, parse_rules

RULES_PACKAGE = "brightline.intake.rules"


def load_greeting_rules(path: Path | None = None) -> GreetingRules:
    """The greeting rules in `path`; without one, the file shipped with intake."""
    if path is not None:
        return load_rule_file(GreetingRules, path)
    shipped = resources.files(RULES_PACKAGE).joinpath("greetings.yaml")
    return parse_rules(GreetingRules, shipped.read_text("utf-8"), "rules/greetings.yaml")


@cache
def greeting_rules() -> GreetingRules:
    return load_greeting_rules()


@cache
def call_outcomes() -> CallOutcomeBook:
    shipped = resources.files(RULES_PACKAGE).joinpath("call_outcomes.yaml")
    return parse_rules(CallOutcomeBook, shipped.read_text("utf-8"), "rules/call_outcomes.yaml")


def load_scripts(directory: Path | None = None) -> ScriptBook:
    """Every `<ticket_type>.yaml` call script in `directory`; without one, intake's own."""
    if directory is None:
        root = resources.files(RULES_PACKAGE).joinpath("scripts")
        texts = [(f"rules/scripts/{f.name}", f.read_text("utf-8")) for f in root.iterdir()]
    else:
        texts = [(str(f), f.read_text(encoding="utf-8")) for f in Path(directory).iterdir()]
    files = []
    for source, text in sorted(texts):
        if not source.endswith(".yaml"):
            continue
        file = parse_rules(ScriptFile, text, source)
        if not source.endswith(f"/{file.ticket_type}.yaml"):
            problem = RuleProblem("ticket_type", None, "the file must be named <ticket_type>.yaml")
            raise RuleFileError(source, [problem])
        files.append(file)
    return ScriptBook(Script(f) for f in files)


@cache
def scripts() -> ScriptBook:
    return load_scripts()
