"""Events owned by the SLA monitor."""

from datetime import datetime

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
