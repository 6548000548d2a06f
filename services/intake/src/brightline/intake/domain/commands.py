"""Commands: what someone asks intake to do."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RecordTicket:
    ticket_type: str
    description: str
    first_ask_owner: str
    details: dict = field(default_factory=dict)
