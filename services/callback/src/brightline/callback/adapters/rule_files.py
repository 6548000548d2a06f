"""Callback's rule file, read from brightline/callback/rules/ and handed to the domain as a model.
A broken file raises brightline.platform.rulefile.RuleFileError naming file, path and line."""

from __future__ import annotations

from functools import cache
from importlib import resources

from brightline.callback.domain.scripts import CallbackScriptRules
from brightline.platform.rulefile import parse_rules


@cache
def callback_script_rules() -> CallbackScriptRules:
    shipped = resources.files("brightline.callback.rules").joinpath("callback_script.yaml")
    return parse_rules(
        CallbackScriptRules, shipped.read_text("utf-8"), "rules/callback_script.yaml"
    )
