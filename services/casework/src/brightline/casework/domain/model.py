"""Cases: complaints, reports, opinions, suggestions and praise. Pure: no I/O.

A case is opened from an intake ticket, transferred to the responsible department (首问负责制:
within 1 working day), accepted, investigated and replied to by that department, then answered
to the customer by the first-ask owner or the department. A callback that finds the customer
unsatisfied reopens it; the history keeps every step with its actor and time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from brightline.casework.domain import events
from brightline.confidentiality import names_match  # noqa: F401 - one definition, shared with records
from brightline.contracts.events.casework import CaseStatus, CaseType
from brightline.contracts.events.common import ComplaintGrade, ComplaintSubtype

CASE_TYPES = ("complaint", "report", "opinion", "suggestion", "praise")

# Types a first-ask owner may answer on the spot, without a department's reply (thanks for
# praise, a suggestion recorded and forwarded). Complaints and reports always go to a department.
ANSWERABLE_WITHOUT_REPLY = frozenset({"opinion", "suggestion", "praise"})

# status -> the statuses an action may start from.
TRANSITIONS: dict[str, tuple[frozenset[str], CaseStatus]] = {
    "transfer": (
        frozenset({"opened", "reopened", "transferred", "accepted", "investigating"}),
        "transferred",
    ),
    "accept": (frozenset({"transferred"}), "accepted"),
    # 回退: a department finds the case is not its own and no other department it could pass it
    # to handles it; the centre (the duty supervisor) transfers it anew.
    "return": (frozenset({"transferred", "accepted", "investigating"}), "opened"),
    "investigate": (frozenset({"accepted"}), "investigating"),
    "reply": (frozenset({"accepted", "investigating"}), "replied"),
    # 审核: the centre reads the department's reply before the customer hears it; one that does
    # not answer what the customer asked goes back to the department (退回重办).
    "send_back": (frozenset({"replied"}), "investigating"),
    "answer": (frozenset({"replied"}), "answered"),
    "reopen": (frozenset({"answered", "closed"}), "reopened"),
    "close": (frozenset({"answered"}), "closed"),
}


# The steps that give or withdraw the department's reply, in the order they happened.
REPLY_STEPS = ("reply", "send_back")


def awaiting_new_reply(reply_steps: Iterable[str]) -> bool:
    """Sent back (审核: 退回重办) and not replied to since: the last of the case's REPLY_STEPS is
    a send-back."""
    last = None
    for action in reply_steps:
        last = action
    return last == "send_back"


class CaseError(Exception):
    """A command the case refuses; `kind` becomes the problem type."""

    kind = "case-error"


class IllegalTransition(CaseError):
    kind = "illegal-transition"

    def __init__(self, action: str, status: str, allowed: list[str]) -> None:
        self.action, self.status, self.allowed = action, status, allowed
        super().__init__(
            f"cannot {action} a case that is {status}; allowed from: {', '.join(allowed)}"
        )


class NotYourCase(CaseError):
    kind = "not-your-case"


@dataclass(frozen=True)
class Step:
    """One entry of the case history: who did what, when."""

    action: str
    actor: str
    at: datetime
    from_status: str | None
    to_status: str | None
    department_id: str | None = None
    note: str | None = None


@dataclass
class Case:
    id: str
    ticket_id: str
    ticket_no: str | None
    case_type: CaseType
    status: CaseStatus
    opened_at: datetime
    first_ask_owner: str
    description: str
    transfer_due: datetime | None
    complaint_subtype: ComplaintSubtype | None = None
    complaint_grade: ComplaintGrade | None = None
    anonymous: bool = False
    reported_party: str | None = None
    department_id: str | None = None
    reply_text: str | None = None
    answer_text: str | None = None
    reopen_count: int = 0
    history: list[Step] = field(default_factory=list)
    new_steps: list[Step] = field(default_factory=list, repr=False, compare=False)
    events: list[events.DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @property
    def confidential(self) -> bool:
        return self.case_type == "report"

    @classmethod
    def open(
        cls,
        *,
        id: str,
        ticket_id: str,
        ticket_no: str | None,
        case_type: CaseType,
        opened_at: datetime,
        first_ask_owner: str,
        description: str,
        transfer_due: datetime | None,
        complaint_subtype: ComplaintSubtype | None = None,
        complaint_grade: ComplaintGrade | None = None,
        anonymous: bool = False,
        reported_party: str | None = None,
    ) -> Case:
        if case_type not in CASE_TYPES:
            raise ValueError(f"not a case type: {case_type}")
        case = cls(
            id=id,
            ticket_id=ticket_id,
            ticket_no=ticket_no,
            case_type=case_type,
            status="opened",
            opened_at=opened_at,
            first_ask_owner=first_ask_owner,
            description=description,
            transfer_due=transfer_due,
            complaint_subtype=complaint_subtype,
            complaint_grade=complaint_grade,
            anonymous=anonymous,
            reported_party=reported_party,
        )
        case._record("open", first_ask_owner, opened_at, None, "opened")
        case.events.append(events.CaseOpened(case))
        return case

    # --- state changes -------------------------------------------------------------------------

    def transfer(
        self, *, department_id: str, actor: str, at: datetime, note: str | None = None
    ) -> None:
        self._move("transfer", actor, at, note=note, department_id=department_id)

    def return_to_centre(
        self,
        *,
        reason: str,
        actor: str,
        at: datetime,
        actor_department: str | None,
        transfer_due: datetime | None,
    ) -> None:
        """The department hands the case back to the centre (回退), with why: no department
        holds it until it is transferred anew, by `transfer_due` (the transfer limit counts
        again from the return; the customer's reply limit runs on). The step and its event name
        the department that returned it."""
        self._require_department(actor_department)
        self._move("return", actor, at, note=reason)
        self.department_id = None
        self.transfer_due = transfer_due

    @property
    def transfer_round(self) -> int:
        """How many times the case came back to the centre: each return opens a transfer
        limit of its own."""
        return sum(1 for step in self.history if step.action == "return")

    def accept(self, *, actor: str, at: datetime, actor_department: str | None) -> None:
        self._require_department(actor_department)
        self._move("accept", actor, at)

    def investigate(
        self, *, actor: str, at: datetime, note: str, actor_department: str | None
    ) -> None:
        self._require_department(actor_department)
        self._move("investigate", actor, at, note=note)

    def reply(self, *, text: str, actor: str, at: datetime, actor_department: str | None) -> None:
        """The department's reply (its finding); checked for forbidden phrases by the caller."""
        self._require_department(actor_department)
        self.reply_text = text
        self._move("reply", actor, at, note=text)

    def send_back(self, *, reason: str, actor: str, at: datetime) -> None:
        """The reply does not do (it misses what the customer asked, or holds no finding): the
        department works on it again, the reason in the history; its reply is withdrawn."""
        self.reply_text = None
        self._move("send_back", actor, at, note=reason)

    @property
    def sent_back(self) -> bool:
        return awaiting_new_reply(s.action for s in self.history if s.action in REPLY_STEPS)

    @property
    def reply_round(self) -> int:
        """How many replies the department gave (a sent-back or reopened case replies again)."""
        return sum(1 for step in self.history if step.action == "reply")

    def answer(self, *, text: str, actor: str, at: datetime) -> None:
        """The customer is answered: by the first-ask owner or the department."""
        if self.status == "opened" and self.case_type in ANSWERABLE_WITHOUT_REPLY:
            start = "opened"
        else:
            start = None
        self.answer_text = text
        self._move("answer", actor, at, note=text, also_from=start)

    def reopen(self, *, reason: str, actor: str, at: datetime) -> None:
        self.reopen_count += 1
        self._move("reopen", actor, at, note=reason)

    def close(self, *, actor: str, at: datetime, note: str | None = None) -> None:
        self._move("close", actor, at, note=note)

    def hand_over(self, *, to: str, actor: str, at: datetime, reason: str) -> bool:
        """First-ask ownership follows intake's ticket (shift handover, supervisor takeover): the
        next owner transfers, answers and reads the case. False when it already has that owner."""
        if not to or not to.strip():
            raise ValueError("a case must always have a first-ask owner")
        if to == self.first_ask_owner:
            return False
        previous, self.first_ask_owner = self.first_ask_owner, to
        self._record(
            "hand_over", actor, at, self.status, self.status, note=f"{reason}: {previous} → {to}"
        )
        return True

    def chase(self, *, by_ticket_id: str, actor: str, at: datetime) -> bool:
        """The customer called again while the case is being handled (催办). False once the
        case is closed: nothing is left to chase."""
        if self.status == "closed":
            return False
        self._record(
            "chase", actor, at, self.status, self.status, note=f"客户再次来电催办：{by_ticket_id}"
        )
        self.events.append(events.CaseChased(self, by_ticket_id, at))
        return True

    def note_reminder(
        self, *, limit_key: str, due_at: datetime, at: datetime, actor: str = "sla_monitor"
    ) -> None:
        self._record(
            "remind",
            actor,
            at,
            self.status,
            self.status,
            note=f"催办 {limit_key}: due {due_at.isoformat()}",
        )
        self.events.append(events.CaseReminded(self, limit_key, due_at, at))

    def note_escalation(
        self,
        *,
        limit_key: str,
        level: str,
        due_at: datetime,
        at: datetime,
        actor: str = "sla_monitor",
    ) -> None:
        self._record(
            "escalate",
            actor,
            at,
            self.status,
            self.status,
            note=f"{limit_key} {level}: was due {due_at.isoformat()}; escalated to supervisor",
        )
        self.events.append(events.CaseEscalated(self, limit_key, level, due_at, at))

    # --- internals -----------------------------------------------------------------------------

    def _require_department(self, actor_department: str | None) -> None:
        # None means a supervisor acting for the department.
        if actor_department is not None and actor_department != self.department_id:
            raise NotYourCase(
                f"case {self.id} is with department {self.department_id}, not {actor_department}"
            )

    def _move(
        self,
        action: str,
        actor: str,
        at: datetime,
        *,
        note: str | None = None,
        department_id: str | None = None,
        also_from: str | None = None,
    ) -> None:
        allowed, target = TRANSITIONS[action]
        if self.status not in allowed and self.status != also_from:
            raise IllegalTransition(
                action, self.status, sorted(allowed | ({also_from} if also_from else set()))
            )
        previous = self.status
        if department_id is not None:
            self.department_id = department_id
        self.status = target
        self._record(action, actor, at, previous, target, note=note)
        self.events.append(
            events.CaseStatusChanged(self, previous, target, actor, at, note, self.department_id)
        )

    def _record(
        self,
        action: str,
        actor: str,
        at: datetime,
        from_status: str | None,
        to_status: str | None,
        note: str | None = None,
    ) -> None:
        step = Step(action, actor, at, from_status, to_status, self.department_id, note)
        self.history.append(step)
        self.new_steps.append(step)
