"""Bodies of the backend-for-frontend."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class UserRead(BaseModel):
    subject: str
    name: str
    staff_no: str | None
    roles: list[str]
    department_id: str | None = Field(None, description="A caseworker's department")


class SessionRead(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    user: UserRead


class ScriptAnswers(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: dict[str, Any] = Field(default_factory=dict)
    language: Literal["zh", "en"] = "zh"


class EscalationResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["accepted", "taken_over", "marked_harassing", "declined"]
    # Intake requires it to decline (and names the field when it is missing); the agent is told.
    reason: str | None = Field(None, max_length=500)


class ChaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_id: str | None = Field(None, max_length=64)
    limit_key: str | None = Field(None, max_length=100)
    note: str | None = Field(None, max_length=500)


class CallbackOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["satisfied", "basically_satisfied", "unsatisfied", "unreachable", "declined"]
    reason: str | None = Field(None, max_length=2000)
    customer_words: str | None = Field(None, max_length=4000)
