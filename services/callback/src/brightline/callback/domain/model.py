"""Callback tasks (回访), their attempts and outcomes, and the rates they add up to. Pure: no I/O.

A finished ticket (repair returned, case answered, consultation or service request completed)
is due one callback within the policy's window. An agent holds a task under a lease while
calling; each "unreachable" is one attempt, and the next attempt waits the policy's spacing.
After the last attempt the task ends unreachable: attempted, but the customer not reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from brightline.callback.domain import events
from brightline.contracts.events.callback import CallbackOutcome, Origin
from brightline.contracts.events.common import TicketType

OUTCOMES = ("satisfied", "basically_satisfied", "unsatisfied", "unreachable", "declined")
# The customer picked up: everything except "unreachable".
REACHED = ("satisfied", "basically_satisfied", "unsatisfied", "declined")
SATISFIED = ("satisfied", "basically_satisfied")

NOT_CALLABLE_REASON = "no callback contact: anonymous report or no phone recorded"


class CallbackError(Exception):
    """A command the task's state does not allow."""


class TaskClosed(CallbackError):
    pass


class NotLeaseHolder(CallbackError):
    pass


class ReasonRequired(CallbackError):
    pass


@dataclass(frozen=True)
class CallbackPolicy:
    """Window, attempts and spacing: given by the policy pack in force (settings'
    PackCallbackPolicy reads them there, the one source), never defaulted here; the lease on a
    task is this service's own setting."""

    window: timedelta
    max_attempts: int
    attempt_spacing: timedelta
    lease: timedelta


@dataclass
class CallbackTask:
    id: str
    ticket_id: str
    ticket_type: TicketType
    origin: Origin  # the service that owns the ticket and reopens it
    unit_id: str
    finished_at: datetime
    finished_day: date  # business-timezone day of finishing: the day its rates count on
    due_at: datetime
    next_attempt_at: datetime
    incident_id: str | None = None
    callable: bool = True
    status: str = "open"  # open | closed
    attempts: int = 0
    outcome: CallbackOutcome | None = None
    reason: str | None = None
    customer_words: str | None = None
    agent_id: str | None = None
    closed_at: datetime | None = None
    lease_holder: str | None = None
    lease_expires_at: datetime | None = None
    restoration_notice_at: datetime | None = None
    restoration_notice_by: str | None = None
    result: str | None = None
    events: list[events.DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        *,
        id: str,
        ticket_id: str,
        ticket_type: TicketType,
        origin: Origin,
        unit_id: str,
        finished_at: datetime,
        finished_day: date,
        policy: CallbackPolicy,
        incident_id: str | None = None,
        result: str | None = None,
    ) -> CallbackTask:
        task = cls(
            id=id,
            ticket_id=ticket_id,
            ticket_type=ticket_type,
            origin=origin,
            unit_id=unit_id,
            finished_at=finished_at,
            finished_day=finished_day,
            due_at=finished_at + policy.window,
            next_attempt_at=finished_at,
            incident_id=incident_id,
            result=result,
        )
        task.events.append(events.TaskCreated(task))
        return task

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def leased_to(self, agent_id: str, now: datetime) -> bool:
        return (
            self.lease_holder == agent_id
            and self.lease_expires_at is not None
            and self.lease_expires_at > now
        )

    def is_free(self, now: datetime) -> bool:
        return self.lease_expires_at is None or self.lease_expires_at <= now

    def lease_to(self, agent_id: str, now: datetime, policy: CallbackPolicy) -> None:
        if not self.is_open:
            raise TaskClosed(f"task {self.id} is closed")
        if not self.is_free(now) and self.lease_holder != agent_id:
            raise NotLeaseHolder(f"task {self.id} is held by another agent")
        self.lease_holder = agent_id
        self.lease_expires_at = now + policy.lease

    def note_restoration_notice(self, agent_id: str, now: datetime) -> bool:
        """The outage batch told this customer power is back. It sets no outcome and no
        satisfaction: the customer's own callback is still due. False when nothing to note."""
        if not self.is_open or self.restoration_notice_at is not None:
            return False
        self.restoration_notice_at, self.restoration_notice_by = now, agent_id
        return True

    def mark_not_callable(self, now: datetime) -> None:
        """Anonymous reports have no callback contact (confidentiality): the task ends declined,
        never attempted, and stays out of the callback rate's denominator."""
        if not self.is_open:
            return
        self.callable = False
        self._close("declined", now, reason=NOT_CALLABLE_REASON)

    def record(
        self,
        outcome: CallbackOutcome,
        *,
        agent_id: str,
        now: datetime,
        policy: CallbackPolicy,
        reason: str | None = None,
        customer_words: str | None = None,
        require_lease: bool = True,
    ) -> None:
        """One call: an outcome, or "unreachable" (one attempt; the last attempt ends the task)."""
        if outcome not in OUTCOMES:
            raise CallbackError(f"unknown outcome {outcome!r}")
        if not self.is_open:
            raise TaskClosed(f"task {self.id} already ended {self.outcome}")
        if require_lease and not self.leased_to(agent_id, now):
            raise NotLeaseHolder(f"task {self.id} is not leased to {agent_id}")
        if outcome == "unsatisfied" and not (reason and reason.strip()):
            raise ReasonRequired("an unsatisfied outcome needs the customer's reason")
        self.attempts += 1
        self.agent_id = agent_id
        self.lease_holder = None
        self.lease_expires_at = None
        self.events.append(events.AttemptMade(self, outcome, agent_id, now, reason, customer_words))
        if outcome == "unreachable" and self.attempts < policy.max_attempts:
            self.next_attempt_at = now + policy.attempt_spacing
            return
        self._close(outcome, now, reason=reason, customer_words=customer_words)
        if outcome == "unsatisfied":
            self.events.append(events.ReopenRequested(self, now))

    def _close(
        self,
        outcome: CallbackOutcome,
        now: datetime,
        *,
        reason: str | None = None,
        customer_words: str | None = None,
    ) -> None:
        self.status = "closed"
        self.outcome = outcome
        self.reason = reason
        self.customer_words = customer_words
        self.closed_at = now
        self.lease_holder = None
        self.lease_expires_at = None
        self.events.append(events.TaskClosed(self, outcome, now))


@dataclass(frozen=True)
class RateCounts:
    """Tasks of one day, unit and ticket type.

    finished: callable tasks, every ticket due a callback (linked consultations and no-ticket
    outcomes the rules call back included): the rate's denominator. called_back: customers
    actually reached (the numerator; equal to reached). attempted_unreached: tasks whose every
    attempt failed to reach the customer, their own figure, never a callback: dialling alone
    cannot make the 90 %. satisfied: satisfied or basically satisfied, over reached.
    """

    day: date
    unit_id: str
    ticket_type: TicketType
    finished: int
    called_back: int
    reached: int
    satisfied: int
    attempted_unreached: int = 0

    @property
    def key(self) -> str:
        return f"{self.day.isoformat()}|{self.unit_id}|{self.ticket_type}"

    @property
    def callback_rate(self) -> float:
        return self.called_back / self.finished if self.finished else 0.0

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.reached if self.reached else None


def count(
    tasks: list[CallbackTask], day: date, unit_id: str, ticket_type: TicketType
) -> RateCounts:
    """The rates of one day/unit/type from its tasks (the repository does the same in SQL)."""
    mine = [
        t
        for t in tasks
        if (t.finished_day, t.unit_id, t.ticket_type) == (day, unit_id, ticket_type)
    ]
    callable_ = [t for t in mine if t.callable]
    ended = [t for t in callable_ if not t.is_open and t.attempts > 0]
    reached = sum(t.outcome in REACHED for t in ended)
    return RateCounts(
        day=day,
        unit_id=unit_id,
        ticket_type=ticket_type,
        finished=len(callable_),
        called_back=reached,
        reached=reached,
        satisfied=sum(t.outcome in SATISFIED for t in ended),
        attempted_unreached=sum(t.outcome == "unreachable" for t in ended),
    )
