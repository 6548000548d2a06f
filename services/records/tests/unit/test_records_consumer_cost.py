"""What records' consumer does in Python per event of a batch, counted (never timed): a repair
ticket's four events (recorded, with sealed personal data; work order created and assigned;
deadline opened) through the route records' consumer runs (opened at the edge, checked against
the contract, projected, gathered for the batch's one statement, audited one row per event),
then the batch's statement parameters and audit rows as the commit writes them."""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from brightline.contracts import Event, InvalidEvent, jsontext, new_event
from brightline.contracts.events.dispatch import WorkOrderCreatedV1, WorkOrderStatusChangedV1
from brightline.contracts.events.intake import TicketRecordedV2
from brightline.contracts.events.sla import DeadlineOpenedV1
from brightline.contracts.sealed import DEV_PERSONAL_DATA_KEY, PersonalDataSeal
from brightline.messaging.audit import AuditTrail
from brightline.records import consumers, handlers

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SEAL = PersonalDataSeal(DEV_PERSONAL_DATA_KEY)


def repair(n: int) -> list[Event]:
    ticket, order = f"t-{n}", f"wo-{n}"
    at = T0 + timedelta(seconds=n)
    recorded = SEAL.sealed(
        TicketRecordedV2,
        ticket_id=ticket,
        ticket_no=f"20261201{n:04d}",
        ticket_type="repair",
        recorded_at=at,
        first_ask_owner="agent-1",
        description="家里停电了",
        call_id=f"call-{n}",
        caller_name="钱七",
        phone="+86 138 0013 8000",
        address="南开区建设路1号",
        area_code="120104",
        fault_scope="own_home",
    )
    return [
        new_event(recorded, source="/brightline/intake"),
        new_event(
            WorkOrderCreatedV1(
                work_order_id=order,
                ticket_id=ticket,
                unit_id="unit-7",
                area_class="urban",
                created_at=at,
                reported_at=at,
            ),
            source="/brightline/dispatch",
        ),
        new_event(
            WorkOrderStatusChangedV1(
                work_order_id=order,
                ticket_id=ticket,
                unit_id="unit-7",
                status="assigned",
                previous_status="created",
                changed_at=at + timedelta(minutes=1),
                crew_id="crew-1",
            ),
            source="/brightline/dispatch",
        ),
        new_event(
            DeadlineOpenedV1(
                deadline_id=f"d-{n}",
                limit_key="repair.arrival",
                policy_pack="default",
                subject_type="work_order",
                subject_id=order,
                ticket_id=ticket,
                opened_at=at,
                warn_at=at + timedelta(minutes=30),
                due_at=at + timedelta(minutes=45),
            ),
            source="/brightline/sla_monitor",
        ),
    ]


class Work:
    """The unit of work's part the route and the audit trail use (no database: the statements
    are counted by tests/integration/test_records_round_trips.py)."""

    def __init__(self, trail: AuditTrail) -> None:
        self.session = SimpleNamespace(info={"audit": trail})
        self.pending: list[Event] = []
        self.riding: list[Any] = []
        self._causation: Event | None = None
        trail.begin(self.session)  # type: ignore[arg-type]

    @property
    def causation(self) -> Event | None:
        return self._causation

    @causation.setter
    def causation(self, event: Event) -> None:
        if self._causation is not None:
            self.session.info["audit"].close(self)
        self._causation = event

    def ride(self, rows: Any) -> None:
        self.riding.append(rows)


ROUTE = handlers.message_bus().route(consumers.on_known_event, SEAL.opening)


async def apply(events: list[Event]) -> tuple[dict[str, str] | None, list[dict[str, Any]]]:
    trail = AuditTrail("records")
    uow = Work(trail)
    for event in events:
        uow.causation = event
        await ROUTE(event, uow)  # type: ignore[arg-type]
    [ride] = uow.riding  # the batch's fold, one write
    parameters = ride()[1]
    rows = trail.rows(uow)  # type: ignore[arg-type]
    # The JSON columns as the commit sends them: text, written once.
    return parameters, [
        {**r, **{k: jsontext.loads(r[k]) for k in ("changes", "detail")}} for r in rows
    ]


def calls_per_event(tickets: int) -> float:
    events = [e for n in range(tickets) for e in repair(n)]
    asyncio.run(apply(events))  # caches warm, as in a running consumer
    count = 0

    def counting(frame: Any, what: str, arg: Any) -> None:
        nonlocal count
        if what == "call":  # a Python function (or generator) entered
            count += 1

    async def counted() -> None:
        # The audit trail's log line per row costs what the process's logging is configured to
        # (another test's app may have set it up): not counted here.
        disabled = logging.root.manager.disable
        logging.disable(logging.INFO)
        sys.setprofile(counting)
        try:
            await apply(events)
        finally:
            sys.setprofile(None)
            logging.disable(disabled)

    asyncio.run(counted())
    return count / len(events)


def test_a_batch_costs_a_bounded_number_of_python_calls_per_event():
    """Measured on this path: 137 calls per event before, 102-104 now. Gone: the contract
    checked on a rebuilt event and its payload copied with the opened fields (records reads
    neither), the trace context asked twice per audit row, a call per column of every timeline
    row the audit trail masks (~20 per event)."""
    small, large = calls_per_event(3), calls_per_event(12)
    assert large <= 110
    assert large <= small + 2  # per event: a batch's size adds nothing per event


def test_the_batch_writes_and_audits_what_each_event_says():
    events = repair(0) + repair(1)
    parameters, rows = asyncio.run(apply(events))
    assert parameters is not None
    entries = jsontext.loads(parameters["entries"])
    assert [e["entry_id"] for e in entries] == [e.id for e in events]
    tickets = {t["ticket_id"]: t for t in jsontext.loads(parameters["ticket_rows"])}
    assert tickets["t-0"]["caller_name"] == "钱七"  # opened at the edge, kept for search
    assert tickets["t-0"]["status"] == "assigned" and tickets["t-0"]["unit_id"] == "unit-7"
    assert [r["action"] for r in rows] == [e.type for e in events]
    assert [r["changes"][0]["after"][0]["entry_id"] for r in rows] == [e.id for e in events]
    assert all(r["trace_id"] is None for r in rows)  # no traceparent, no span: none
    assert "钱七" not in str(rows) and "13800138000" not in str(rows)


def test_a_payload_that_breaks_its_contract_is_still_refused():
    recorded = repair(0)[0]
    broken = Event(recorded.type, recorded.source, recorded.subject, {**recorded.data})
    del broken.data["ticket_no"]
    with pytest.raises(InvalidEvent):
        consumers.on_known_event(SEAL.opening(broken))
    sealed_in_clear = Event(
        recorded.type, recorded.source, recorded.subject, {**recorded.data, "phone": "138"}
    )
    with pytest.raises(InvalidEvent):  # personal data must travel sealed
        consumers.on_known_event(SEAL.opening(sealed_in_clear))
