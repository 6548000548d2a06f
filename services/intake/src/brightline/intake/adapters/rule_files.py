"""Intake's rule files, read from brightline/intake/rules/ and handed to the domain as models.
A broken file raises brightline.platform.rulefile.RuleFileError naming file, path and line."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from brightline.intake.domain.call_outcomes import CallOutcomeBook
from brightline.intake.domain.greetings import GreetingRules
from brightline.platform.rulefile import load_rule_file, parse_rules

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
