"""What the SLA monitor is asked to do: by other services' events (consumers) and by
supervisors (routes). Either is logged as an event (the replay history) and translated into
deadline inputs (brightline.sla_monitor.translate)."""

from __future__ import annotations

from dataclasses import dataclass

from brightline.contracts import Event


@dataclass(frozen=True)
class ObserveEvent:
    """Another service's event: logged, its KPI facts kept, its deadline inputs applied leniently
    (an input the deadline cannot take is logged, never retried)."""

    event: Event


@dataclass(frozen=True)
class ApplySupervisorAct:
    """A supervisor's open, pause, resume, meet or cancel, as the event that logs it: applied
    strictly (an input the deadline cannot take is refused)."""

    event: Event
