"""Events owned by the SLA monitor."""

from datetime import datetime

from pydantic import Field

from brightline.contracts.registry import EventPayload, event
from brightline.contracts.topics import SLA_DEADLINES


@event("brightline.sla.deadline.opened.v1", topic=SLA_DEADLINES, key="deadline_id")
class DeadlineOpenedV1(EventPayload):
    """A time limit of the active policy pack started running for a piece of work."""

    deadline_id: str
    limit_key: str
    policy_pack: str
    subject_type: str
    subject_id: str
    ticket_id: str | None
    opened_at: datetime
    warn_at: datetime
    due_at: datetime = Field(
        description="For a day-based limit: the same clock time (business timezone) as opened_at on "
        "the n-th (working) day after it; see docs/time-limits.md"
    )
    amount: int | None = Field(None, description="The limit as the pack counts it, e.g. 5")
    unit: str | None = Field(
        None,
        description="Its unit in the pack: seconds, minutes, hours, calendar_days, working_days",
    )
    provisional: bool = Field(
        False,
        description="Counted Monday-Friday through a year whose holiday notice is not entered yet; "
        "a deadline.rescheduled event follows once it is",
    )


class _DeadlineFact(EventPayload):
    deadline_id: str
    limit_key: str
    policy_pack: str
    subject_type: str
    subject_id: str
    ticket_id: str | None
    due_at: datetime


@event("brightline.sla.deadline.warned.v1", topic=SLA_DEADLINES, key="deadline_id")
class DeadlineWarnedV1(_DeadlineFact):
    """A deadline reached its warning point: chase (催办) the people named."""

    warned_at: datetime
    notify: list[str] = Field(default_factory=list)


@event("brightline.sla.deadline.breached.v1", topic=SLA_DEADLINES, key="deadline_id")
class DeadlineBreachedV1(_DeadlineFact):
    """A deadline passed with the work not done; `level` counts escalations after the breach."""

    breached_at: datetime
    level: str = "breach"
    notify: list[str] = Field(default_factory=list)


@event("brightline.sla.deadline.met.v1", topic=SLA_DEADLINES, key="deadline_id")
class DeadlineMetV1(_DeadlineFact):
    """The work was done; on_time says whether before due_at."""

    met_at: datetime
    on_time: bool


@event("brightline.sla.deadline.cancelled.v1", topic=SLA_DEADLINES, key="deadline_id")
class DeadlineCancelledV1(_DeadlineFact):
    """The work no longer needs doing (ticket withdrawn, merged into an incident, ...)."""

    cancelled_at: datetime
    reason: str


@event("brightline.sla.deadline.breach-retracted.v1", topic=SLA_DEADLINES, key="deadline_id")
class DeadlineBreachRetractedV1(_DeadlineFact):
    """A breach fired before the input reached the monitor; the input's own time proves the work
    was done by due_at, so the breach (and the escalations after it) is taken back."""

    breached_at: datetime
    retracted_at: datetime
    met_at: datetime
    escalations: list[str] = Field(default_factory=list)


@event("brightline.sla.deadline.paused.v1", topic=SLA_DEADLINES, key="deadline_id")
class DeadlinePausedV1(_DeadlineFact):
    """The clock stopped by an explicit, audited act (e.g. waiting for the customer)."""

    paused_at: datetime
    reason: str
    paused_by: str | None = None


@event("brightline.sla.deadline.resumed.v1", topic=SLA_DEADLINES, key="deadline_id")
class DeadlineResumedV1(_DeadlineFact):
    """The clock runs again; due_at and warn_at are the new ones, moved by the pause."""

    resumed_at: datetime
    warn_at: datetime
    paused_seconds: float
    resumed_by: str | None = None


@event("brightline.sla.deadline.rescheduled.v1", topic=SLA_DEADLINES, key="deadline_id")
class DeadlineRescheduledV1(_DeadlineFact):
    """The due time moved without a pause: a provisional count recomputed on new calendar data."""

    rescheduled_at: datetime
    warn_at: datetime
    provisional: bool
    reason: str
