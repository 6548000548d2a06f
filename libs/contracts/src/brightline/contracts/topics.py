"""Every Kafka topic Brightline uses, named per aggregate, each with a dead-letter twin."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    owner: str
    description: str

    @property
    def dead_letter(self) -> str:
        return f"{self.name}.dlt"


TOPICS: dict[str, Topic] = {}


def topic(name: str, owner: str, description: str) -> Topic:
    if name in TOPICS:
        raise ValueError(f"topic {name} declared twice")
    TOPICS[name] = Topic(name, owner, description)
    return TOPICS[name]


INTAKE_CALLS = topic(
    "intake.calls", "intake", "Call records from the telephony switch: ringing, answered, ended."
)
INTAKE_TICKETS = topic(
    "intake.tickets",
    "intake",
    "Tickets as first recorded by the answering agent, and their owner changes.",
)
INTAKE_ESCALATIONS = topic(
    "intake.escalations", "intake", "Difficult callers handed to the duty supervisor."
)
DISPATCH_WORK_ORDERS = topic(
    "dispatch.work-orders", "dispatch", "Repair work orders and every state change of them."
)
DISPATCH_OUTAGES = topic(
    "dispatch.outages", "dispatch", "Outage incidents folding many 'no power' calls into one fault."
)
DISPATCH_PLANNED_OUTAGES = topic(
    "dispatch.planned-outages",
    "dispatch",
    "Planned outages (计划停电) from the outage management system, their notice, and supply "
    "interruptions whose cause is removed or supply restored.",
)
CASEWORK_CASES = topic(
    "casework.cases", "casework", "Complaints, reports, opinions, suggestions and praise as cases."
)
CALLBACK_TASKS = topic("callback.tasks", "callback", "Callback tasks, attempts and outcomes.")
CALLBACK_RATES = topic(
    "callback.rates", "callback", "Callback and satisfaction rates per day, unit and ticket type."
)
SLA_DEADLINES = topic(
    "sla.deadlines", "sla_monitor", "Deadlines opened, warned, breached, met or cancelled."
)


def all_topic_names() -> list[str]:
    """Every topic and its dead-letter twin, for topic creation."""
    return [name for t in TOPICS.values() for name in (t.name, t.dead_letter)]
