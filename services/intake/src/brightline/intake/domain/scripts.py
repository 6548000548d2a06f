"""Script engine: guided, branching call scripts as data, one per ticket type.

Each script is a YAML file in `brightline/intake/rules/scripts/<ticket_type>.yaml`. A node
either asks (a ticket `field` or a branching `question`, optionally with `choices`),
decides (branches on an answer already given), or ends in an `outcome`. The engine is
stateless: give it every answer so far and it says where the call stands.

    book = scripts()  # brightline.intake.adapters.rule_files reads rules/scripts/*.yaml
    step = book.get("repair").advance({"fault_scope": "own_home"})
    step.node_id, step.prompt, step.fields_required, step.outcome

Seed 004, 篇2 §3.1 (repair), §3.2 (complaints, reports), §3.3 (opinions, suggestions).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from brightline.contracts.events.common import SERVICE_SUBTYPES, TICKET_TYPES, TicketType

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
OutcomeKind = Literal[
    "create_ticket",
    "self_check_guidance",
    "paid_service_referral",
    "link_to_existing",
    "transfer_supervisor",
    "resolved_on_call",
]
OUTCOME_KINDS: tuple[str, ...] = get_args(OutcomeKind)
# Outcomes that record a ticket, and so need a ticket_type.
TICKET_OUTCOMES: tuple[str, ...] = (CREATE_TICKET, LINK_TO_EXISTING)

LANGUAGES: tuple[str, ...] = ("zh", "en")


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
    def __init__(self, file: ScriptFile, required_fields: Mapping[str, list[str]] | None = None):
        # The engine walks the validated file as plain data: a key the file leaves out is absent.
        data: dict[str, Any] = file.model_dump(exclude_unset=True)
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
# The script file, as pydantic models: every load validates; errors name file, path and line.
# ---------------------------------------------------------------------------------------
NonEmpty = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Rules):
    zh: NonEmpty
    en: NonEmpty


class ChoiceSpec(_Rules):
    value: Any
    label: Text
    next: str | None = None


class OutcomeSpec(_Rules):
    kind: OutcomeKind
    ticket_type: TicketType | None = None
    note: Text

    @model_validator(mode="after")
    def _ticket_type_when_a_ticket_is_recorded(self) -> OutcomeSpec:
        if self.kind in TICKET_OUTCOMES and self.ticket_type is None:
            raise ValueError(f"{self.kind} needs a ticket_type from {TICKET_TYPES}")
        if self.kind not in TICKET_OUTCOMES and self.ticket_type is not None:
            raise ValueError(f"{self.kind} records no ticket; drop ticket_type")
        return self


class Node(_Rules):
    """Asks a ticket `field` or a `question`, `decide`s on an answer, or ends in an `outcome`."""

    prompt: Text | None = None
    field: str | None = None
    question: str | None = None
    decide: str | None = None
    outcome: OutcomeSpec | None = None
    choices: tuple[ChoiceSpec, ...] = ()
    next: str | None = None
    cases: dict[Any, str] | None = None
    default: str | None = None
    audience: Literal["agent"] | None = None
    optional: bool = False

    @property
    def kinds(self) -> list[str]:
        return [
            k for k in ("field", "question", "decide", "outcome") if getattr(self, k) is not None
        ]

    def targets(self) -> list[str]:
        out = [self.next] if self.next else []
        out += [c.next for c in self.choices if c.next]
        out += list((self.cases or {}).values())
        return out + ([self.default] if self.default else [])

    @model_validator(mode="after")
    def _one_thing(self) -> Node:
        kinds = self.kinds
        if len(kinds) != 1:
            raise ValueError(f"needs exactly one of field/question/decide/outcome, has {kinds}")
        if kinds != ["decide"] and self.prompt is None:
            raise ValueError("needs a prompt")
        if self.field is not None and self.field not in FIELD_NAMES:
            raise ValueError(f"unknown field {self.field!r} (use one of FIELD_NAMES or a question)")
        if self.question is not None and self.question in FIELD_NAMES:
            raise ValueError(f"{self.question!r} is a ticket field; ask it with `field`")
        key = self.field or self.question
        if key is not None:
            for i, c in enumerate(self.choices):
                if key in FIELD_VALUES and c.value not in FIELD_VALUES[key]:
                    raise ValueError(f"choices[{i}]: {c.value!r} is not a valid {key}")
            if not self.next and (not self.choices or any(not c.next for c in self.choices)):
                raise ValueError("needs `next` (or a `next` on every choice)")
        if self.decide is not None:
            if not self.cases:
                raise ValueError("decide needs `cases`")
            for value in self.cases if self.decide in FIELD_VALUES else ():
                if value not in FIELD_VALUES[self.decide]:
                    raise ValueError(f"case {value!r} is not a valid {self.decide}")
        if self.outcome is not None and self.targets():
            raise ValueError("an outcome node has no branches")
        return self


class Escalation(_Rules):
    key: NonEmpty
    node: str


class ScriptFile(_Rules):
    """One call script (rules/scripts/<ticket_type>.yaml)."""

    id: str
    version: int
    ticket_type: TicketType
    title: Text
    start: str
    nodes: dict[str, Node] = Field(min_length=1)
    required_fields: tuple[str, ...]
    optional_fields: tuple[str, ...] = ()
    escalation: Escalation | None = None

    @model_validator(mode="after")
    def _a_sound_graph(self) -> ScriptFile:
        nodes, p = self.nodes, []
        for f in (*self.required_fields, *self.optional_fields):
            if f not in FIELD_NAMES:
                p.append(f"unknown field {f!r} in required/optional fields")
        for node_id, node in nodes.items():
            p += [
                f"node {node_id}: branch target {t!r} does not exist"
                for t in node.targets()
                if t not in nodes
            ]
        if self.start not in nodes:
            p.append(f"start node {self.start!r} does not exist")
        roots = [self.start]
        if self.escalation is not None:
            esc = nodes.get(self.escalation.node)
            if esc is None or esc.outcome is None or esc.outcome.kind != TRANSFER_SUPERVISOR:
                p.append("escalation node must exist and end in transfer_supervisor")
            roots.append(self.escalation.node)
        if p:
            raise ValueError("; ".join(p))
        asked = {n.field or n.question for n in nodes.values()}
        p += [
            f"node {i}: decides on {n.decide!r}, which no node asks"
            for i, n in nodes.items()
            if n.decide is not None and n.decide not in asked
        ]
        p += [
            f"required field {f!r} is never asked" for f in self.required_fields if f not in asked
        ]
        seen: set[str] = set()
        todo = list(roots)
        while todo:
            if (n := todo.pop()) not in seen:
                seen.add(n)
                todo.extend(nodes[n].targets())
        p += [f"node {n} is unreachable" for n in nodes if n not in seen]
        # No cycles, and every path ends in an outcome.
        state: dict[str, int] = {}

        def visit(n: str, trail: tuple[str, ...]) -> None:
            if state.get(n) == 1:
                p.append(f"loop through {' -> '.join((*trail, n))}")
            if n in state:
                return
            state[n] = 1
            if not nodes[n].targets() and nodes[n].outcome is None:
                p.append(f"node {n} is a dead end")
            for t in nodes[n].targets():
                visit(t, (*trail, n))
            state[n] = 2

        visit(self.start, ())
        if p:
            raise ValueError("; ".join(p))
        return self
