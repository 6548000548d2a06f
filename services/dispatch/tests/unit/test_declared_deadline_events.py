"""Dispatch acts on one kind of the SLA monitor's deadlines: a work order's arrival clock (its
arrive_by). Any other deadline opened on a work order (a supervisor may open any limit on any
subject) is declared ignored: the consumer skips it before opening a transaction."""

from datetime import UTC, datetime, timedelta

import pytest

from brightline.contracts import new_event
from brightline.contracts.events.sla import DeadlineOpenedV1
from brightline.dispatch import consumers, handlers
from brightline.dispatch.domain import commands
from brightline.dispatch.settings import DispatchSettings
from brightline.messaging.consumer import wants

AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ROUTES = handlers.message_bus(DispatchSettings()).routes(consumers.TRANSLATORS)


def opened(subject_type: str, limit_key: str):
    return new_event(
        DeadlineOpenedV1(
            deadline_id="d-1",
            limit_key=limit_key,
            policy_pack="seed",
            subject_type=subject_type,
            subject_id="wo-1",
            ticket_id="t-1",
            opened_at=AT,
            warn_at=AT + timedelta(minutes=30),
            due_at=AT + timedelta(minutes=45),
        ),
        source="/brightline/sla_monitor",
    )


@pytest.mark.parametrize(
    ("subject_type", "limit_key", "taken"),
    [
        ("work_order", "repair.arrival.urban", True),
        ("work_order", "repair.arrival.remote", True),
        ("work_order", "callback.window", False),
        ("ticket", "repair.arrival.urban", False),
        ("case", "complaint.reply", False),
    ],
)
def test_only_a_work_orders_arrival_clock_opens_a_transaction(subject_type, limit_key, taken):
    event = opened(subject_type, limit_key)
    assert wants(ROUTES[event.type], event) is taken
    # the declaration and the translation agree
    command = consumers.on_deadline_opened(event)
    assert isinstance(command, commands.SetArrivalDeadline) is taken
