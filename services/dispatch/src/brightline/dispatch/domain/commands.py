from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CreateWorkOrder:
    ticket_id: str
    area_code: str | None
