from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OpenDeadline:
    limit_key: str
    subject_type: str
    subject_id: str
    ticket_id: str | None
    opened_at: datetime
