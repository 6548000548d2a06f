"""Events the SLA monitor has nothing to do with (issue 21) are declared to its consumer, which
skips them before opening a transaction: a repair's ticket.recorded, a follower order's
creation, an assignment. Every event that means a deadline input or a KPI fact is taken, by the
same translation the handler applies."""

from datetime import UTC, datetime, timedelta

import pytest

from brightline.contracts import new_event
from brightline.contracts.events.callback import CallbackRateComputedV1
from brightline.contracts.events.casework import CaseOpenedV1
from brightline.contracts.events.dispatch import (
    WorkOrderCreatedV1,
    WorkOrderReturnedV1,
    WorkOrderStatusChangedV1,
)
from brightline.contracts.events.intake import CallRingingV1, TicketRecordedV1
from brightline.messaging.consumer import wants
from brightline.sla_monitor import consumers, handlers
from brightline.sla_monitor.settings import SlaMonitorSettings
from brightline.sla_monitor.translate import BY_THE_BOOK, KPI_FACTS, inputs_for

AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ROUTES = handlers.message_bus(SlaMonitorSettings(), lambda _at: None).routes(consumers.TRANSLATORS)
BOOK = handlers.policy_book(tuple(SlaMonitorSettings().policy_packs))


def ticket(**kw):
    return TicketRecordedV1(
        ticket_id="t-1",
        ticket_no="NO-1",
        recorded_at=AT,
        first_ask_owner="a-1",
        description="...",
        **kw,
    )


def created(is_lead: bool):
    return WorkOrderCreatedV1(
        work_order_id="wo-1",
        ticket_id="t-1",
        unit_id="U1",
        area_class="urban",
        created_at=AT,
        is_lead=is_lead,
    )


def status(to: str):
    return WorkOrderStatusChangedV1(
        work_order_id="wo-1",
        ticket_id="t-1",
        unit_id="U1",
        status=to,
        previous_status="created",
        changed_at=AT,
    )


def returned(resolution: str):
    return WorkOrderReturnedV1(
        work_order_id="wo-1", ticket_id="t-1", unit_id="U1", returned_at=AT, resolution=resolution
    )


IGNORED = [
    ticket(ticket_type="repair", fault_scope="own_home"),
    ticket(ticket_type="consultation"),
    created(is_lead=False),
    status("assigned"),
    status("accepted"),
    returned("repaired"),
]
TAKEN = [
    ticket(
        ticket_type="service_request",
        service_subtype="appointment",
        appointment_at=AT + timedelta(days=1),
    ),
    created(is_lead=True),
    status("on_site"),
    status("cancelled"),
    returned("paid_service_referral"),
    CallRingingV1(
        call_id="c-1", caller_number="13800000000", called_number="95598", queue="q", rang_at=AT
    ),
    CallbackRateComputedV1(
        key="A",
        day=AT.date(),
        unit_id="U1",
        ticket_type="repair",
        finished=10,
        called_back=9,
        reached=9,
        satisfied=9,
        callback_rate=0.9,
        satisfaction_rate=1.0,
        computed_at=AT,
    ),
    CaseOpenedV1(
        case_id="k-1", ticket_id="t-1", case_type="complaint", opened_at=AT, first_ask_owner="a"
    ),
]


def accepted(payload) -> bool:
    event = new_event(payload, source="/test")
    return wants(ROUTES[event.type], event)


@pytest.mark.parametrize("payload", IGNORED, ids=lambda p: type(p).__name__)
def test_an_event_without_input_or_fact_is_skipped(payload):
    assert not accepted(payload)


@pytest.mark.parametrize("payload", TAKEN, ids=lambda p: type(p).__name__)
def test_an_event_with_an_input_or_a_fact_is_taken(payload):
    assert accepted(payload)


@pytest.mark.parametrize("payload", IGNORED + TAKEN, ids=lambda p: type(p).__name__)
def test_the_declaration_is_the_handlers_translation(payload):
    event = new_event(payload, source="/test")
    acts = bool(inputs_for(event, BOOK)) or event.type in KPI_FACTS | BY_THE_BOOK
    assert accepted(payload) == acts
