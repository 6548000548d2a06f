"""Domain events of casework, turned into integration events by the handlers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from brightline.contracts.events.casework import CaseStatus

if TYPE_CHECKING:
    from brightline.casework.domain.model import Case


@dataclass(frozen=True)
class CaseOpened:
    case: Case


@dataclass(frozen=True)
class CaseStatusChanged:
    case: Case
    previous_status: CaseStatus
    status: CaseStatus
    actor: str
    at: datetime
    note: str | None
    department_id: str | None


@dataclass(frozen=True)
class CaseReminded:
    case: Case
    limit_key: str
    due_at: datetime
    at: datetime


@dataclass(frozen=True)
class CaseEscalated:
    case: Case
    limit_key: str
    level: str
    due_at: datetime
    at: datetime


@dataclass(frozen=True)
class CaseChased:
    case: Case
    by_ticket_id: str
    at: datetime


# What a casework aggregate records; handlers translate each into its integration event.
DomainEvent = CaseOpened | CaseStatusChanged | CaseReminded | CaseEscalated | CaseChased
