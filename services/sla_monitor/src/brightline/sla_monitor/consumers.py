"""Events that open, move and close deadlines, and the call and callback facts KPIs need.

Every consumed event the monitor acts on (translate.acts_on: a KPI fact or a deadline input)
becomes one ObserveEvent: its handler logs the event (the replay history), keeps the KPI facts
and applies the deadline inputs it translates to. The others are declared (only_if): the
consumer skips them before opening a transaction.
"""

from __future__ import annotations

from brightline.contracts import Event
from brightline.contracts.topics import consumed_by
from brightline.messaging import only_if
from brightline.sla_monitor.domain import commands
from brightline.sla_monitor.translate import acts_on

CONSUMED = (
    "brightline.intake.call.ringing.v1",
    "brightline.intake.call.ringing.v2",
    "brightline.intake.call.answered.v1",
    "brightline.intake.call.ended.v1",
    "brightline.dispatch.work-order.created.v1",
    "brightline.dispatch.work-order.created.v2",
    "brightline.dispatch.work-order.promoted.v1",
    "brightline.dispatch.work-order.promoted.v2",
    "brightline.dispatch.work-order.status-changed.v1",
    "brightline.dispatch.work-order.returned.v1",
    "brightline.casework.case.opened.v1",
    "brightline.casework.case.status-changed.v1",
    "brightline.callback.task.created.v1",
    "brightline.callback.outcome.recorded.v1",
    "brightline.callback.rate.computed.v1",
    "brightline.intake.ticket.recorded.v1",
    "brightline.intake.ticket.recorded.v2",
    "brightline.intake.ticket.milestone-recorded.v1",
    "brightline.dispatch.supply.cause-removed.v1",
    "brightline.dispatch.supply.restored.v1",
    "brightline.dispatch.outage.restored.v1",
    "brightline.dispatch.planned-outage.registered.v1",
)

# What this service subscribes to is declared once, in the topic registry (its ACLs too).
TOPICS = consumed_by("sla_monitor")


def observe(event: Event) -> commands.ObserveEvent:
    return commands.ObserveEvent(event)


TRANSLATORS = {event_type: only_if(acts_on, observe) for event_type in CONSUMED}
