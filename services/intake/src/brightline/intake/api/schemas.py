"""Request and response bodies."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from brightline.contracts.events.common import (
    ComplaintGrade,
    ComplaintSubtype,
    FaultScope,
    ServiceSubtype,
    TicketType,
)
from brightline.intake.domain.model import TicketStatus
from brightline.platform.phones import normalise_phone
from brightline.platform.validation import HappenedAt, Said, SystemTime, near_now, unique_by

PHONE = r"^\+?[0-9-]{3,20}$"


def _dialable(value: str) -> str:
    # The pattern alone let "---" through: a number no one can call back or find again.
    if sum(c.isdigit() for c in value) < 3:
        raise ValueError("a phone number needs at least 3 digits")
    return value


# A number as a switch or an agent writes it: digits, maybe dashes, maybe a leading +.
Phone = Annotated[str, Field(pattern=PHONE), AfterValidator(_dialable)]


def _directory_phone(value: str) -> str:
    normalised = normalise_phone(value)
    if normalised is None or len(normalised) < 3:
        raise ValueError("a phone number needs at least 3 digits")
    return value


# A number as the customer system writes it ("+86 138-1111-0002", "(0571) 8888 0002"); the
# directory keeps it normalised (DirectoryRepository), the form caller cards look up.
DirectoryPhone = Annotated[
    str,
    Field(min_length=3, max_length=32, pattern=r"^\+?[0-9 ()-]+$"),
    AfterValidator(_directory_phone),
]
# What a switch sends for a field it has nothing for may be "" (treated as absent, as before);
# spaces alone are that too, never a queue or a number called.
SwitchText = Annotated[str, StringConstraints(strip_whitespace=True)]


# The switch's clock.
SwitchTime = SystemTime
# When the power went off, as the caller says: not in the future, not last month.
FaultTime = HappenedAt
# The start of an agreed hour (预约): booked for the coming weeks, not a typo's year. Whether the
# hour is still to come or under way is the policy's (service_requests.problems_of).
AppointmentTime = Annotated[AwareDatetime, near_now(timedelta(days=1), timedelta(days=90))]


# -- tickets ---------------------------------------------------------------------------------
class TicketCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_type: TicketType
    description: Said = Field(max_length=4000)
    call_id: str | None = Field(None, max_length=64)
    customer_id: str | None = Field(None, max_length=64)
    customer_number: str | None = Field(None, max_length=64)
    caller_name: str | None = Field(None, max_length=100)
    phone: Phone | None = None
    address: str | None = Field(None, max_length=300)
    area_code: str | None = Field(None, max_length=32)
    meter_no: str | None = Field(None, max_length=32)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    fault_scope: FaultScope | None = None
    fault_started_at: FaultTime | None = Field(
        None, description="When the power went off, with a timezone offset"
    )
    complaint_subtype: ComplaintSubtype | None = None
    complaint_grade: ComplaintGrade | None = None
    service_subtype: ServiceSubtype | None = Field(
        None,
        description="服务申请 sub-type; appointment, written bill query, meter fault and "
        "connections carry time limits of their own",
    )
    appointment_at: AppointmentTime | None = Field(
        None,
        description="预约: start of the agreed hour, with offset; staff arrive before it ends. "
        "An hour still to come or under way, at most 90 days ahead",
    )
    planned_outage_id: str | None = Field(
        None, max_length=64, description="A consultation about this planned outage (计划停电)"
    )
    anonymous: bool = False
    reported_party: str | None = Field(None, max_length=200)
    praised_party: str | None = Field(None, max_length=200)
    language: Literal["zh", "en", "dialect"] | None = None
    script: str | None = Field(None, max_length=100, pattern=r"^[a-z_]+@[\w.-]+$")
    note_to_customer: str | None = Field(
        None,
        max_length=2000,
        description="What the agent tells or sends the customer; checked for 服务忌语",
    )
    linked_ticket_id: str | None = Field(
        None,
        max_length=64,
        description="A consultation about a complaint, report, opinion or suggestion already "
        "being handled: that ticket. The case is chased (催办); its callback covers this call.",
    )


class LinkRead(BaseModel):
    kind: Literal["repair", "outage"]
    ticket_id: str | None
    ticket_no: str | None
    incident_id: str | None
    progress: str
    expected_restore_at: datetime | None
    cause: str | None = None
    message: str = Field(description="What to tell the caller")


class ReplyPromiseRead(BaseModel):
    """By when a complainant or reporter hears back: the pack in force's reply limit, counted
    from the moment the ticket was recorded, said in the closing before the call ends."""

    limit_key: str = Field(description="`complaint.reply` or `report.reply`")
    amount: int
    unit: str = Field(description="The pack's unit: calendar_days, working_days, hours")
    due_at: datetime = Field(
        description="Day-based limits fall due at the recording's clock time, business timezone"
    )
    policy_pack: str = Field(description="`name@version` of the pack in force")
    provisional: bool = Field(
        description="Counted into a year the working-day calendar does not know yet"
    )


class TicketRead(BaseModel):
    id: str
    no: str
    ticket_type: str
    status: TicketStatus
    recorded_at: datetime
    first_ask_owner: str
    owner: str
    description: str
    details: dict
    completed_at: datetime | None = None
    linked: LinkRead | None = None
    reply_promise: ReplyPromiseRead | None = None


class TicketComplete(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reply: Said = Field(
        max_length=2000,
        description="The answer given to the customer; checked for 服务忌语 and kept (the "
        "callback states it)",
    )


class CallOutcomeCreate(BaseModel):
    """A call that ended without a repair or case ticket; recorded as a closed consultation."""

    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(
        description="resolved_on_call | self_check_guidance | paid_service_referral | "
        "answered_on_spot (rules/call_outcomes.yaml)",
        max_length=64,
    )
    description: Said = Field(max_length=4000)
    call_id: str | None = Field(None, max_length=64)
    customer_id: str | None = Field(None, max_length=64)
    caller_name: str | None = Field(None, max_length=100)
    phone: Phone | None = None
    address: str | None = Field(None, max_length=300)
    area_code: str | None = Field(None, max_length=32)
    meter_no: str | None = Field(None, max_length=32)
    fault_scope: FaultScope | None = None
    fault_started_at: FaultTime | None = None
    language: Literal["zh", "en", "dialect"] | None = None
    script: str | None = Field(None, max_length=100, pattern=r"^[a-z_]+@[\w.-]+$")
    answer: str | None = Field(
        None,
        max_length=2000,
        description="The answer given, if not the rules' standard words; checked for 服务忌语",
    )


class CallOutcomeRead(BaseModel):
    ticket: TicketRead
    say: str = Field(description="What the agent tells the caller before the call ends")
    callback_due: bool


class HandoverCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_agent: str = Field(min_length=1, max_length=64)
    from_agent: str | None = Field(
        None, max_length=64, description="Supervisors only; an agent hands over their own"
    )
    ticket_ids: list[Annotated[str, Field(min_length=1, max_length=36)]] | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="Only these of the open tickets (each must be one); every one when absent",
    )


class HandoverRead(BaseModel):
    from_agent: str
    to_agent: str
    ticket_ids: list[str]


# -- calls -----------------------------------------------------------------------------------
class CtiEvent(BaseModel):
    """A generic CTI webhook body, as the switch sends it (camelCase)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    event: Literal["newCall", "answer", "hangup"]
    call_id: Said = Field(alias="callId", max_length=64)
    timestamp: SwitchTime = Field(description="The switch's time of the event, with offset")
    caller_number: Phone | None = Field(None, alias="callerNumber")
    called_number: SwitchText | None = Field(None, alias="calledNumber", max_length=32)
    queue: SwitchText | None = Field(None, max_length=64)
    agent_extension: str | None = Field(None, alias="agentExtension", max_length=32)
    agent_id: str | None = Field(None, alias="agentId", max_length=64)
    cause: Literal["normal", "abandoned", "transferred", "silent"] | None = None


class CallRead(BaseModel):
    call_id: str
    state: str
    caller_number: str | None
    called_number: str | None
    queue: str | None
    agent_extension: str | None
    agent_id: str | None = None
    rang_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    end_cause: str | None
    answer_delay_seconds: float | None
    answered_within_12s: bool | None = None


class CtiAck(BaseModel):
    duplicate: bool
    call: CallRead


# -- customer directory and caller card --------------------------------------------------------
class CustomerImportItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: Said = Field(max_length=64)
    name: Said | None = Field(None, max_length=100)
    phones: list[DirectoryPhone] = Field(default_factory=list, max_length=10)
    address: str | None = Field(None, max_length=300)
    area_code: str | None = Field(None, max_length=32)
    meter_no: str | None = Field(None, max_length=32)
    sensitive: bool = False


class CustomerImport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customers: Annotated[list[CustomerImportItem], unique_by("customer_id")] = Field(
        min_length=1, max_length=1000
    )


class CustomerRead(BaseModel):
    customer_id: str
    name: str | None
    address: str | None
    area_code: str | None
    meter_no: str | None
    sensitive: bool


class CustomerFound(CustomerRead):
    phones: list[str]


class OutageRead(BaseModel):
    incident_id: str
    area_codes: list[str]
    expected_restore_at: datetime | None
    cause: str | None


class PlannedOutageNotice(BaseModel):
    planned_outage_id: str
    area_codes: list[str]
    starts_at: datetime
    ends_at: datetime
    announced_at: datetime
    reason: str
    in_effect: bool


class TicketSummary(BaseModel):
    id: str
    no: str
    ticket_type: str
    status: TicketStatus
    recorded_at: datetime
    owner: str
    description: str


class CallerFlags(BaseModel):
    repeat_caller: bool
    sensitive_customer: bool
    harassing_number: bool


class CallerCard(BaseModel):
    caller_number: str
    call_id: str | None = None
    customers: list[CustomerRead]
    open_tickets: list[TicketSummary]
    recent_tickets: list[TicketSummary]
    active_outages: list[OutageRead]
    planned_outages: list[PlannedOutageNotice] = Field(
        default_factory=list,
        description="Planned outages (计划停电) over the caller's areas, in effect or coming",
    )
    flags: CallerFlags


# -- escalations and audit ---------------------------------------------------------------------
class EscalationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["help", "handover"]
    reason: Literal["agitated", "harassing", "complex", "other"]
    call_id: str | None = Field(None, max_length=64)
    ticket_id: str | None = Field(None, max_length=36)
    caller_number: Phone | None = None
    note: str | None = Field(None, max_length=1000)


class EscalationResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["accepted", "taken_over", "marked_harassing", "declined"]
    reason: str | None = Field(
        None, max_length=500, description="Why; required to decline (the agent is told)"
    )


class EscalationRead(BaseModel):
    id: str
    kind: str
    reason: str
    agent_id: str
    call_id: str | None
    ticket_id: str | None
    caller_number: str | None
    note: str | None
    status: str
    requested_at: datetime
    supervisor_id: str | None
    resolved_at: datetime | None
    resolution_reason: str | None = None


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    ticket_id: str | None
    escalation_id: str | None
    details: dict[str, Any]


# -- scripts, greetings, etiquette -------------------------------------------------------------
class ScriptAnswers(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: dict[str, Any] = Field(default_factory=dict)
    language: Literal["zh", "en"] = "zh"


class ChoiceRead(BaseModel):
    value: Any
    label: str


class OutcomeRead(BaseModel):
    kind: str
    ticket_type: str | None
    note: str


class ScriptStep(BaseModel):
    script: str = Field(description="id@version; record it on the ticket")
    node_id: str
    prompt: str
    key: str | None
    is_field: bool
    agent_only: bool
    optional: bool
    choices: list[ChoiceRead]
    fields_required: list[str]
    outcome: OutcomeRead | None
    done: bool
    path: list[str]


class EtiquetteCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)


class ViolationRead(BaseModel):
    phrase: str
    start: int
    end: int
    category: str
    suggestion: str | None


class EtiquetteResult(BaseModel):
    polite: bool
    violations: list[ViolationRead]
