"""Bodies of the agent desk's routes (api/desk.py). Codes are closed lists: the desk shows each
one translated, never the code itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from brightline.platform.validation import Said

NotReadyReason = Literal["break", "meal", "training", "meeting", "after_call_paperwork", "other"]
# Why a seat is not ready: what its agent chose, or the floor's own ring_no_answer (an offered
# call rang out at it, domain.floor.RING_NO_ANSWER); why it is offline: desk_lost (its desk went
# away without signing out, domain.floor.DESK_LOST), else none (signed out).
SeatReason = NotReadyReason | Literal["ring_no_answer", "desk_lost"]
WrapUpCode = Literal[
    "resolved",
    "ticket_recorded",
    "information_given",
    "callback_promised",
    "transferred",
    "silent_call",
    "wrong_number",
    "dropped",
]
SeatState = Literal["offline", "ready", "not_ready", "ringing", "talking", "wrap_up"]
Situation = Literal[
    "system_fault",
    "silent_call",
    "inaudible",
    "wrong_number",
    "kind_invitation",
    "harassing",
    "agitated",
]


class SeatRead(BaseModel):
    agent_id: str
    name: str
    staff_no: str
    state: SeatState
    since: datetime | None
    call_id: str | None
    answered_today: int
    reason: SeatReason | None = None


class OfferRead(BaseModel):
    call_id: str
    queue: str
    rang_at: datetime
    caller_number: str | None


class DeskStateRead(BaseModel):
    seat: SeatRead
    offer: OfferRead | None = None
    call: OfferRead | None = None
    answered_at: datetime | None = None


class DeskStateUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: Literal["ready", "not_ready", "offline"]
    reason: NotReadyReason | None = None


class DeskWrapUp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: WrapUpCode
    ready: bool = True
    reason: NotReadyReason | None = None
    call_id: str | None = Field(None, max_length=64)


class DraftWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    call_id: str = Field(min_length=1, max_length=64)
    data: dict[str, Any]


class DraftRead(BaseModel):
    call_id: str
    data: dict[str, Any]
    updated_at: datetime


class EtiquetteText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)


class Violation(BaseModel):
    phrase: str
    start: int
    end: int
    category: str
    suggestion: str | None = None


class EtiquetteRead(BaseModel):
    polite: bool
    violations: list[Violation]


class TimedLineRead(BaseModel):
    after_seconds: int
    text: str
    action: str


class SituationPromptRead(BaseModel):
    situation: str
    lines: list[str]
    action: str
    timed: list[TimedLineRead] = []


class GreetingRead(BaseModel):
    opening: str
    announcements: list[str]
    prompts: list[SituationPromptRead]
    closing: str
    closing_reminder: str
    agent_notes: list[str]
    transfer_to_supervisor: bool = False


class TicketCompletion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reply: Said = Field(max_length=2000)


class EscalationOutcomeRead(BaseModel):
    escalation_id: str
    outcome: Literal["accepted", "taken_over", "marked_harassing", "declined"] | None
    supervisor_id: str | None
    resolved_at: datetime | None
    reason: str | None = Field(None, description="Why, as the supervisor gave it (a decline)")


class ReplyPromiseRead(BaseModel):
    """By when the caller hears back: the reply limit of the policy pack in force
    (complaint.reply, report.reply), counted by intake from the ticket's recording."""

    limit_key: str
    policy: str
    due_at: datetime


class DeskCodes(BaseModel):
    wrap_up_codes: list[WrapUpCode]
    not_ready_reasons: list[NotReadyReason]
    situations: list[Situation]
    answer_limit_seconds: int
