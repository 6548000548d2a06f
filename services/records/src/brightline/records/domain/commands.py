"""What records is asked to do."""

from __future__ import annotations

from dataclasses import dataclass

from brightline.records.domain.model import Observed


@dataclass(frozen=True)
class RecordEvent:
    """Fold one event of any topic into the ticket view and the timeline."""

    event: Observed
