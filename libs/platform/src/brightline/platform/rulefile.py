"""Rule files (greetings, call outcomes, scripts, ...) read into pydantic models, with errors that
name the file, the path within it and its line, so whoever edits the YAML finds the mistake.

Adapters call load_rule_file(); the domain gets the validated model and never reads a file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

Location = tuple[int | str, ...]


@dataclass(frozen=True)
class RuleProblem:
    path: str  # dotted, with [i] for list items: `situations.silent.timed[2].action`
    line: int | None  # 1-based line of the YAML node, when the file has one there
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.path or '(top)'}: {self.message}"


class RuleFileError(ValueError):
    """A rule file that does not describe valid rules; every problem is listed."""

    def __init__(self, source: str, problems: Sequence[RuleProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(f"{source}: " + "; ".join(map(str, self.problems)))


def dotted(location: Location) -> str:
    out = ""
    for part in location:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Marks:
    """The line of each node of a YAML document, by its path of keys and indexes."""

    def __init__(self, text: str) -> None:
        self.lines: dict[Location, int] = {}
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            self._walk(node, ())

    def _walk(self, node: yaml.Node, at: Location) -> None:
        self.lines[at] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self.lines[(*at, key.value)] = key.start_mark.line + 1
                self._walk(value, (*at, key.value))
                self.lines[(*at, key.value)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, (*at, index))

    def line_of(self, location: Location) -> int | None:
        # The deepest node the file has on the way (a missing key: its parent mapping).
        for depth in range(len(location), -1, -1):
            line = self.lines.get(tuple(location[:depth]))
            if line is not None:
                return line
        return None


def parse_rules(model: type[M], text: str, source: str, **context: Any) -> M:
    """Validate YAML text against `model`; RuleFileError names source, path and line."""
    try:
        data = yaml.safe_load(text)
        marks = _Marks(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise RuleFileError(source, [RuleProblem("", line, f"not YAML ({error})")]) from error
    try:
        return model.model_validate(data, context=context or None)
    except ValidationError as error:
        problems = []
        for e in error.errors():
            at = _within_model(e["loc"])
            # A model's own check says what is wrong; pydantic's "Value error, " adds nothing.
            message = e["msg"].removeprefix("Value error, ")
            problems.append(RuleProblem(dotted(at), marks.line_of(at), message))
        raise RuleFileError(source, problems) from error


def _within_model(location: Location) -> Location:
    # pydantic names the member of a tagged union it tried (`timed.0.TimedLine`); the file
    # has no such node, so only the keys and indexes of the data stay.
    return tuple(part for part in location if isinstance(part, int) or not part[:1].isupper())


def load_rule_file(model: type[M], path: Path, **context: Any) -> M:
    return parse_rules(model, path.read_text(encoding="utf-8"), str(path), **context)
