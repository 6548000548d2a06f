"""Domain events: facts the model records; handlers turn them into integration events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brightline.intake.domain.model import Ticket


@dataclass(frozen=True)
class TicketRecorded:
    ticket: Ticket
