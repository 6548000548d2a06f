"""Domain events of dispatch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brightline.dispatch.domain.model import WorkOrder


@dataclass(frozen=True)
class WorkOrderCreated:
    order: "WorkOrder"
