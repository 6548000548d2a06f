"""Every Kafka topic Brightline uses, named per aggregate, each with a dead-letter twin, and
which service reads which of them in which consumer group. The broker's ACLs are generated from
this one registry (brightline.contracts.acls): a service writes its own topics and the dead-letter
twins of what it reads, and reads only what it subscribes to here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    owner: str
    description: str
    # Partitions when created: None for the deployment's KAFKA_PARTITIONS (the busy topics, over
    # which a consumer group scales out); a quiet topic declares fewer (never more than
    # KAFKA_PARTITIONS). Every fetch of a consumer lists every partition it is assigned, data
    # or not, and the broker answers for each: a quiet topic's partitions are a cost per fetch
    # to each of its consumers and buy no parallelism.
    partitions: int | None = None

    @property
    def dead_letter(self) -> str:
        return f"{self.name}.dlt"

    def partitions_of(self, default: int) -> int:
        """Partitions of the topic (and its dead-letter twin) when KAFKA_PARTITIONS is `default`."""
        return default if self.partitions is None else min(self.partitions, default)


TOPICS: dict[str, Topic] = {}
# A quiet topic's partitions: a few events an hour (escalations, planned outages, daily rates),
# a few partitions all the same so that a group's second member is never idle on them. Outages
# stay at KAFKA_PARTITIONS: a storm sends an update per report folded into an incident.
QUIET = 3


def topic(name: str, owner: str, description: str, *, partitions: int | None = None) -> Topic:
    if name in TOPICS:
        raise ValueError(f"topic {name} declared twice")
    TOPICS[name] = Topic(name, owner, description, partitions)
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
    "intake.escalations",
    "intake",
    "Difficult callers handed to the duty supervisor.",
    partitions=QUIET,
)
DISPATCH_WORK_ORDERS = topic(
    "dispatch.work-orders", "dispatch", "Repair work orders and every state change of them."
)
DISPATCH_OUTAGES = topic(
    "dispatch.outages",
    "dispatch",
    "Outage incidents folding many 'no power' calls into one fault.",
)
DISPATCH_PLANNED_OUTAGES = topic(
    "dispatch.planned-outages",
    "dispatch",
    "Planned outages (计划停电) from the outage management system, their notice, and supply "
    "interruptions whose cause is removed or supply restored.",
    partitions=QUIET,
)
CASEWORK_CASES = topic(
    "casework.cases", "casework", "Complaints, reports, opinions, suggestions and praise as cases."
)
CALLBACK_TASKS = topic("callback.tasks", "callback", "Callback tasks, attempts and outcomes.")
CALLBACK_RATES = topic(
    "callback.rates",
    "callback",
    "Callback and satisfaction rates per day, unit and ticket type.",
    partitions=QUIET,
)
SLA_DEADLINES = topic(
    "sla.deadlines", "sla_monitor", "Deadlines opened, warned, breached, met or cancelled."
)


@dataclass(frozen=True)
class Subscription:
    """`service` reads `topics` in consumer group `group`; a group ending in "-" is a prefix
    (consumers that start a group of their own each time: a rebuild, a console's live view).
    An inbox consumer writes what it can never process to the topic's dead-letter twin."""

    service: str
    group: str
    topics: tuple[Topic, ...]
    dead_letters: bool = True

    @property
    def group_is_prefix(self) -> bool:
        return self.group.endswith("-")


SUBSCRIPTIONS: list[Subscription] = []


def subscribe(
    service: str, *topics: Topic, group: str | None = None, dead_letters: bool = True
) -> None:
    SUBSCRIPTIONS.append(Subscription(service, group or service, topics, dead_letters))


def consumed_by(service: str) -> list[Topic]:
    """The topics a service's inbox consumer (group = the service's name) subscribes to."""
    return [t for s in SUBSCRIPTIONS if s.group == service for t in s.topics]


# Every service talks to Kafka as its own principal (console and records own no topic).
SERVICES = ("intake", "dispatch", "casework", "callback", "sla_monitor", "records", "console")

subscribe(
    "intake",
    DISPATCH_OUTAGES,
    DISPATCH_WORK_ORDERS,
    CALLBACK_TASKS,
    CASEWORK_CASES,
    DISPATCH_PLANNED_OUTAGES,
)
subscribe("dispatch", INTAKE_TICKETS, CALLBACK_TASKS)
subscribe("casework", INTAKE_TICKETS, SLA_DEADLINES, CALLBACK_TASKS)
subscribe("callback", INTAKE_TICKETS, DISPATCH_WORK_ORDERS, CASEWORK_CASES)
subscribe(
    "sla_monitor",
    INTAKE_CALLS,
    INTAKE_TICKETS,
    DISPATCH_WORK_ORDERS,
    DISPATCH_OUTAGES,
    DISPATCH_PLANNED_OUTAGES,
    CASEWORK_CASES,
    CALLBACK_TASKS,
    CALLBACK_RATES,
)
# records keeps every event; its rebuild replays them in a group of its own.
subscribe("records", *TOPICS.values())
subscribe("records", *TOPICS.values(), group="records-rebuild-")
# The console's live view: one group per console process, from the latest offsets, no inbox.
subscribe(
    "console",
    INTAKE_CALLS,
    INTAKE_TICKETS,
    INTAKE_ESCALATIONS,
    DISPATCH_WORK_ORDERS,
    DISPATCH_OUTAGES,
    SLA_DEADLINES,
    CASEWORK_CASES,
    CALLBACK_TASKS,
    group="console-live-",
    dead_letters=False,
)
# What the console keeps from events (the floor's calls, escalation outcomes): one durable group
# shared by its replicas, named after the deployment's topic prefix (brightline.console.state_feed).
subscribe("console", INTAKE_CALLS, INTAKE_ESCALATIONS, group="console-state-", dead_letters=False)


def all_topic_names() -> list[str]:
    """Every topic and its dead-letter twin, for topic creation."""
    return [name for t in TOPICS.values() for name in (t.name, t.dead_letter)]


def topic_partitions(default: int) -> dict[str, int]:
    """Partitions of every topic and its dead-letter twin when created, KAFKA_PARTITIONS being
    `default`."""
    return {
        name: t.partitions_of(default) for t in TOPICS.values() for name in (t.name, t.dead_letter)
    }
