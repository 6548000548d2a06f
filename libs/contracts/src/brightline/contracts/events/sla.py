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
    due_at: datetime
    amount: int | None = Field(None, description="The limit as the pack counts it, e.g. 5")
    unit: str | None = Field(
        None,
        description="Its unit in the pack: seconds, minutes, hours, calendar_days, working_days",
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
