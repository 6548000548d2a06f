"""Script engine: guided, branching call scripts as data, one per ticket type.

Each script is a YAML file in `brightline/intake/rules/scripts/<ticket_type>.yaml`. A node
either asks (a ticket `field` or a branching `question`, optionally with `choices`),
decides (branches on an answer already given), or ends in an `outcome`. The engine is
stateless: give it every answer so far and it says where the call stands.

    book = ScriptBook.load()
    step = book.get("repair").advance({"fault_scope": "own_home"})
    step.node_id, step.prompt, step.fields_required, step.outcome

Seed 004, 篇2 §3.1 (repair), §3.2 (complaints, reports), §3.3 (opinions, suggestions).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from brightline.contracts.events.common import SERVICE_SUBTYPES, TICKET_TYPES

# Field names other modules rely on; spelled exactly so.
FIELD_NAMES: tuple[str, ...] = (
    "caller_name",
    "phone",
    "address",
    "fault_scope",
    "fault_started_at",
    "description",
    "complaint_subtype",
    "complaint_grade",
    "anonymous",
    "reported_party",
    "language",
    # Beyond the shared list: the customer's account number (户号) and who is praised.
    "customer_number",
    "praised_party",
    # 服务申请 sub-types with limits of their own, and the agreed hour of an appointment.
    "service_subtype",
    "appointment_at",
)

# Closed vocabularies; a script's choices for these fields must stay inside them.
FIELD_VALUES: dict[str, tuple[Any, ...]] = {
    "fault_scope": ("own_home", "building", "area"),
    "complaint_subtype": ("service", "business", "outage", "supply_quality", "grid_construction"),
    "complaint_grade": ("special", "major", "important", "general", None),
    "anonymous": (True, False),
    "language": ("zh", "en", "dialect"),
    "service_subtype": SERVICE_SUBTYPES,
}

CREATE_TICKET = "create_ticket"
SELF_CHECK_GUIDANCE = "self_check_guidance"
PAID_SERVICE_REFERRAL = "paid_service_referral"
LINK_TO_EXISTING = "link_to_existing"
TRANSFER_SUPERVISOR = "transfer_supervisor"
RESOLVED_ON_CALL = "resolved_on_call"
OUTCOME_KINDS: tuple[str, ...] = (
    CREATE_TICKET,
    SELF_CHECK_GUIDANCE,
    PAID_SERVICE_REFERRAL,
    LINK_TO_EXISTING,
    TRANSFER_SUPERVISOR,
    RESOLVED_ON_CALL,
)
# Outcomes that record a ticket, and so need a ticket_type.
TICKET_OUTCOMES: tuple[str, ...] = (CREATE_TICKET, LINK_TO_EXISTING)

LANGUAGES: tuple[str, ...] = ("zh", "en")
SCRIPTS_PACKAGE = "brightline.intake.rules"
SCRIPTS_DIR = "scripts"


class ScriptError(ValueError):
    """A script file is malformed; `problems` lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid call script: " + "; ".join(problems))


class InvalidAnswer(ValueError):
    """An answer is not one of the node's choices."""

    def __init__(self, node_id: str, key: str, value: Any, allowed: Iterable[Any]):
        self.node_id, self.key, self.value, self.allowed = node_id, key, value, tuple(allowed)
        super().__init__(f"{key}={value!r} is not one of {list(self.allowed)} (node {node_id})")


@dataclass(frozen=True)
class Choice:
    value: Any
    label: str


@dataclass(frozen=True)
class Outcome:
    kind: str  # one of OUTCOME_KINDS
    ticket_type: str | None  # for create_ticket / link_to_existing
    note: str


@dataclass(frozen=True)
class Step:
    """Where the call stands: the node to handle now, or the outcome reached.

    `fields_required` lists the ticket fields still missing: for the script's own ticket
    type while asking, for the outcome's ticket type at the end (empty when no ticket).
    """

    node_id: str
    prompt: str
    choices: tuple[Choice, ...]
    fields_required: list[str]
    outcome: Outcome | None
    key: str | None = None  # the field or question this node asks
    is_field: bool = False  # True when `key` is a ticket field
    agent_only: bool = False  # the prompt is a check for the agent, not said to the caller
    optional: bool = False  # the caller may decline; answer None to move on
    script_ref: str = ""  # "<id>@<version>", stored with the ticket
    path: tuple[str, ...] = ()  # nodes walked, start first

    @property
    def done(self) -> bool:
        return self.outcome is not None


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


class Script:
    def __init__(
        self, data: dict[str, Any], required_fields: Mapping[str, list[str]] | None = None
    ):
        problems = validate_script(data)
        if problems:
            raise ScriptError([f"{data.get('id', '?')}: {p}" for p in problems])
        self.data = data
        self.id: str = data["id"]
        self.version = data["version"]
        self.ticket_type: str = data["ticket_type"]
        self.start: str = data["start"]
        self.nodes: dict[str, dict[str, Any]] = data["nodes"]
        self.required_fields: list[str] = list(data.get("required_fields") or ())
        self.optional_fields: list[str] = list(data.get("optional_fields") or ())
        # Required fields of *other* ticket types (for link_to_existing -> consultation);
        # the book fills this in once every script is loaded.
        self._required_by_type: Mapping[str, list[str]] = required_fields or {
            self.ticket_type: self.required_fields
        }

    def __repr__(self) -> str:
        return f"Script({self.ref})"

    @property
    def ref(self) -> str:
        """`id@version`, recorded on the ticket."""
        return f"{self.id}@{self.version}"

    def _missing(self, ticket_type: str | None, answers: Mapping[str, Any]) -> list[str]:
        if ticket_type is None:
            return []
        return [
            f for f in self._required_by_type.get(ticket_type, ()) if not _present(answers.get(f))
        ]

    def _step(self, node_id: str, answers: Mapping[str, Any], lang: str, path: list[str]) -> Step:
        node = self.nodes[node_id]
        if "outcome" in node:
            o = node["outcome"]
            outcome = Outcome(
                kind=o["kind"], ticket_type=o.get("ticket_type"), note=o["note"][lang]
            )
            required = self._missing(outcome.ticket_type, answers)
        else:
            outcome = None
            required = self._missing(self.ticket_type, answers)
        key = node.get("field") or node.get("question")
        return Step(
            node_id=node_id,
            prompt=node["prompt"][lang],
            choices=tuple(Choice(c["value"], c["label"][lang]) for c in node.get("choices") or ()),
            fields_required=required,
            outcome=outcome,
            key=key,
            is_field="field" in node,
            agent_only=node.get("audience") == "agent",
            optional=bool(node.get("optional")),
            script_ref=self.ref,
            path=tuple(path),
        )

    def advance(self, answers: Mapping[str, Any], language: str = "zh") -> Step:
        """Walk from the start with the answers given so far; stop at the first node
        still unanswered, or at the outcome. Raises InvalidAnswer for a value that is not
        one of a node's choices."""
        if language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}")
        escalation = self.data.get("escalation")
        if escalation and answers.get(escalation["key"]):
            return self._step(escalation["node"], answers, language, [escalation["node"]])

        path: list[str] = []
        node_id = self.start
        while True:
            if node_id in path:  # validation forbids cycles; this is a last guard
                raise ScriptError([f"{self.id}: loop at node {node_id}"])
            path.append(node_id)
            node = self.nodes[node_id]
            if "outcome" in node:
                return self._step(node_id, answers, language, path)
            if "decide" in node:
                value = answers.get(node["decide"])
                target = _case(node["cases"], value)
                if target is None:
                    target = node.get("default")
                if target is None:
                    raise InvalidAnswer(node_id, node["decide"], value, node["cases"].keys())
                node_id = target
                continue
            key = node.get("field") or node["question"]
            if key not in answers:
                return self._step(node_id, answers, language, path)
            value = answers[key]
            choices = node.get("choices") or ()
            if choices:
                chosen = next(
                    (c for c in choices if c["value"] == value and type(c["value"]) is type(value)),
                    None,
                )
                if chosen is None and value is None and node.get("optional"):
                    chosen = {}
                if chosen is None:
                    raise InvalidAnswer(node_id, key, value, [c["value"] for c in choices])
                node_id = chosen.get("next") or node["next"]
            else:
                if value is None and not node.get("optional"):
                    return self._step(node_id, answers, language, path)
                node_id = node["next"]


def _case(cases: Mapping[Any, str], value: Any) -> str | None:
    for k, target in cases.items():
        if k == value and type(k) is type(value):
            return target
    return None


class ScriptBook:
    """Every call script, by ticket type."""

    def __init__(self, scripts: Iterable[Script]):
        self.scripts: dict[str, Script] = {}
        for s in scripts:
            if s.ticket_type in self.scripts:
                raise ScriptError([f"two scripts for ticket type {s.ticket_type}"])
            self.scripts[s.ticket_type] = s
        missing = [t for t in TICKET_TYPES if t not in self.scripts]
        if missing:
            raise ScriptError([f"no script for ticket type(s) {missing}"])
        required = self.required_fields()
        for s in self.scripts.values():
            s._required_by_type = required
        problems = []
        for s in self.scripts.values():
            for node_id, node in s.nodes.items():
                o = node.get("outcome") or {}
                if o.get("ticket_type") and o["ticket_type"] not in required:
                    problems.append(f"{s.id}.{node_id}: unknown ticket_type {o['ticket_type']}")
        if problems:
            raise ScriptError(problems)

    @classmethod
    def load(cls, directory: str | Path | None = None) -> ScriptBook:
        """Load every `*.yaml` script; without `directory`, the ones shipped with intake."""
        if directory is None:
            root = resources.files(SCRIPTS_PACKAGE).joinpath(SCRIPTS_DIR)
            files = sorted(
                (f for f in root.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name
            )
            texts = [(f.name, f.read_text("utf-8")) for f in files]
        else:
            paths = sorted(Path(directory).glob("*.yaml"))
            texts = [(f.name, f.read_text(encoding="utf-8")) for f in paths]
        scripts = []
        for name, text in texts:
            data = yaml.safe_load(text)
            if (
                isinstance(data, dict)
                and data.get("ticket_type")
                and f"{data['ticket_type']}.yaml" != name
            ):
                raise ScriptError([f"{name}: file name must be <ticket_type>.yaml"])
            scripts.append(Script(data))
        return cls(scripts)

    def get(self, ticket_type: str) -> Script:
        try:
            return self.scripts[ticket_type]
        except KeyError:
            raise KeyError(
                f"no call script for ticket type {ticket_type!r}; known: {list(self.scripts)}"
            ) from None

    def __iter__(self) -> Iterator[Script]:
        return iter(self.scripts.values())

    def may_record(self, script_id: str, ticket_type: str) -> bool:
        """May a ticket of `ticket_type` carry script `script_id`? Its own script, or one whose
        outcome records that type (the repair script's "already being handled" records a
        consultation linked to the open work)."""
        for s in self.scripts.values():
            if s.id != script_id:
                continue
            if s.ticket_type == ticket_type:
                return True
            return any(
                (node.get("outcome") or {}).get("ticket_type") == ticket_type
                for node in s.nodes.values()
            )
        return False

    def required_fields(self) -> dict[str, list[str]]:
        return {t: list(s.required_fields) for t, s in self.scripts.items()}

    def optional_fields(self) -> dict[str, list[str]]:
        return {t: list(s.optional_fields) for t, s in self.scripts.items()}


# ---------------------------------------------------------------------------------------
# Validation — run on every load, and by the unit tests over the shipped files.
# ---------------------------------------------------------------------------------------
def _texts(node: Any, where: str, p: list[str], extra: tuple[str, ...] = ()) -> None:
    if not isinstance(node, dict):
        p.append(f"{where}: expected zh and en texts")
        return
    for lang in LANGUAGES:
        if not isinstance(node.get(lang), str) or not node[lang].strip():
            p.append(f"{where}: missing {lang} text")
    stray = set(node) - set(LANGUAGES) - set(extra)
    if stray:
        p.append(
            f"{where}: unexpected keys {sorted(map(str, stray))} (unquoted comma in a flow mapping?)"
        )


def _targets(node: dict[str, Any]) -> list[str]:
    out = []
    if node.get("next"):
        out.append(node["next"])
    for c in node.get("choices") or ():
        if isinstance(c, dict) and c.get("next"):
            out.append(c["next"])
    if isinstance(node.get("cases"), dict):
        out.extend(node["cases"].values())
    if node.get("default"):
        out.append(node["default"])
    return out


def validate_script(data: Any) -> list[str]:
    """Every problem in one script document; empty when it is sound."""
    p: list[str] = []
    if not isinstance(data, dict):
        return ["script must be a mapping"]
    for key in ("id", "version", "ticket_type", "start", "nodes", "required_fields"):
        if key not in data:
            p.append(f"missing `{key}`")
    if p:
        return p
    if data["ticket_type"] not in TICKET_TYPES:
        p.append(f"unknown ticket_type {data['ticket_type']!r}")
    nodes = data["nodes"]
    if not isinstance(nodes, dict) or not nodes:
        return p + ["`nodes` must be a non-empty mapping"]
    if data["start"] not in nodes:
        p.append(f"start node {data['start']!r} does not exist")
    for f in [*data["required_fields"], *(data.get("optional_fields") or ())]:
        if f not in FIELD_NAMES:
            p.append(f"unknown field {f!r} in required/optional fields")

    asked: set[str] = set()
    for node_id, node in nodes.items():
        where = f"node {node_id}"
        if not isinstance(node, dict):
            p.append(f"{where}: must be a mapping")
            continue
        kinds = [k for k in ("field", "question", "decide", "outcome") if k in node]
        if len(kinds) != 1:
            p.append(f"{where}: needs exactly one of field/question/decide/outcome, has {kinds}")
            continue
        kind = kinds[0]
        if kind != "decide":
            _texts(node.get("prompt"), f"{where}.prompt", p)
        for target in _targets(node):
            if target not in nodes:
                p.append(f"{where}: branch target {target!r} does not exist")
        if kind in ("field", "question"):
            key = node[kind]
            asked.add(key)
            if kind == "field" and key not in FIELD_NAMES:
                p.append(f"{where}: unknown field {key!r} (use one of FIELD_NAMES or a `question`)")
            if kind == "question" and key in FIELD_NAMES:
                p.append(f"{where}: {key!r} is a ticket field; ask it with `field`")
            choices = node.get("choices") or ()
            for i, c in enumerate(choices):
                if not isinstance(c, dict) or "value" not in c:
                    p.append(f"{where}.choices[{i}]: needs a value")
                    continue
                _texts(c.get("label"), f"{where}.choices[{i}].label", p)
                if kind == "field" and key in FIELD_VALUES and c["value"] not in FIELD_VALUES[key]:
                    p.append(f"{where}.choices[{i}]: {c['value']!r} is not a valid {key}")
            if not node.get("next") and (
                not choices or any(not c.get("next") for c in choices if isinstance(c, dict))
            ):
                p.append(f"{where}: needs `next` (or a `next` on every choice)")
        elif kind == "decide":
            if not isinstance(node.get("cases"), dict) or not node["cases"]:
                p.append(f"{where}: decide needs `cases`")
        else:
            o = node["outcome"]
            if not isinstance(o, dict) or o.get("kind") not in OUTCOME_KINDS:
                p.append(f"{where}: outcome kind must be one of {OUTCOME_KINDS}")
                continue
            if o["kind"] in TICKET_OUTCOMES and o.get("ticket_type") not in TICKET_TYPES:
                p.append(f"{where}: {o['kind']} needs a ticket_type from {TICKET_TYPES}")
            if o["kind"] not in TICKET_OUTCOMES and o.get("ticket_type"):
                p.append(f"{where}: {o['kind']} records no ticket; drop ticket_type")
            _texts(o.get("note"), f"{where}.outcome.note", p)
            if _targets(node):
                p.append(f"{where}: an outcome node has no branches")
    if p:
        return p

    for node_id, node in nodes.items():
        if "decide" in node:
            if node["decide"] not in asked:
                p.append(f"node {node_id}: decides on {node['decide']!r}, which no node asks")
            if node["decide"] in FIELD_VALUES:
                for value in node["cases"]:
                    if value not in FIELD_VALUES[node["decide"]]:
                        p.append(f"node {node_id}: case {value!r} is not a valid {node['decide']}")
    for f in data["required_fields"]:
        if f not in asked:
            p.append(f"required field {f!r} is never asked")

    roots = [data["start"]]
    esc = data.get("escalation")
    if esc is not None:
        if not isinstance(esc, dict) or esc.get("node") not in nodes or not esc.get("key"):
            p.append("escalation needs `key` and an existing `node`")
        else:
            if nodes[esc["node"]].get("outcome", {}).get("kind") != TRANSFER_SUPERVISOR:
                p.append("escalation node must end in transfer_supervisor")
            roots.append(esc["node"])

    # No unreachable node.
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        n = todo.pop()
        if n in seen or n not in nodes:
            continue
        seen.add(n)
        todo.extend(_targets(nodes[n]))
    for n in nodes:
        if n not in seen:
            p.append(f"node {n} is unreachable")

    # No cycles, and every path ends in an outcome.
    state: dict[str, int] = {}

    def visit(n: str, trail: tuple[str, ...]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            p.append(f"loop through {' -> '.join((*trail, n))}")
            return
        state[n] = 1
        targets = _targets(nodes[n])
        if not targets and "outcome" not in nodes[n]:
            p.append(f"node {n} is a dead end")
        for t in targets:
            visit(t, (*trail, n))
        state[n] = 2

    visit(data["start"], ())
    return p


_default_book: ScriptBook | None = None


def default_book() -> ScriptBook:
    """The scripts shipped with intake, loaded once."""
    global _default_book
    if _default_book is None:
        _default_book = ScriptBook.load()
    return _default_book


class _RequiredFields(Mapping[str, list[str]]):
    """REQUIRED_FIELDS, read from the shipped scripts on first use."""

    def __init__(self, which: str):
        self._which = which

    def _data(self) -> dict[str, list[str]]:
        book = default_book()
        return book.required_fields() if self._which == "required" else book.optional_fields()

    def __getitem__(self, ticket_type: str) -> list[str]:
        return self._data()[ticket_type]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __repr__(self) -> str:
        return repr(self._data())


# ticket_type -> fields a ticket of that type must have when intake records it.
REQUIRED_FIELDS: Mapping[str, list[str]] = _RequiredFields("required")
# ticket_type -> fields recorded when the caller gives them (e.g. complaint_grade).
OPTIONAL_FIELDS: Mapping[str, list[str]] = _RequiredFields("optional")
