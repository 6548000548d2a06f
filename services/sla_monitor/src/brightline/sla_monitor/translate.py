"""Which deadline inputs each event means. Pure: an Event (and the policy book) in, inputs out.

Shared by the consumers and by replay. Supervisor actions taken over the API
(open, pause, resume) are logged as events of the `sla_monitor.*` types below
so that replay sees them too.
"""

from __future__ import annotations

from datetime import datetime

from brightline.contracts import Event
from brightline.sla_monitor.domain.monitor import Cancel, Input, Meet, Open, Pause, Resume
from brightline.sla_monitor.domain.policy import PolicyBook, transfer_key

CREATED_V1 = "brightline.dispatch.work-order.created.v1"
STATUS_CHANGED_V1 = "brightline.dispatch.work-order.status-changed.v1"
ARRIVAL = ("repair.arrival.urban", "repair.arrival.rural", "repair.arrival.remote")

SUPERVISOR_OPEN = "sla_monitor.supervisor.open"
SUPERVISOR_PAUSE = "sla_monitor.supervisor.pause"
SUPERVISOR_RESUME = "sla_monitor.supervisor.resume"
SUPERVISOR_MEET = "sla_monitor.supervisor.meet"
SUPERVISOR_CANCEL = "sla_monitor.supervisor.cancel"


def _t(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _call_rang(p) -> list[Input]:
    """The answer clock, opened again from a later event of the call when its ringing was lost
    (opening twice is a no-op)."""
    return [_answer_open(p.call_id, p.rang_at)] if p.rang_at else []


def _call_answered(p) -> list[Input]:
    return [
        *_call_rang(p),
        Meet(
            subject_type="call", subject_id=p.call_id, limit_keys=("call.answer",), at=p.answered_at
        ),
    ]


def _arrival_open(p, at: datetime) -> Open:
    return Open(
        limit_key=f"repair.arrival.{p.area_class}",
        subject_type="work_order",
        subject_id=p.work_order_id,
        ticket_id=p.ticket_id,
        at=at,
        unit_id=p.unit_id,
        ticket_type="repair",
    )


# Events whose facts the KPIs keep (handlers.record_kpi_facts), whatever their deadline inputs.
KPI_FACTS = frozenset(
    {
        "brightline.intake.call.ringing.v1",
        "brightline.intake.call.ringing.v2",
        "brightline.intake.call.answered.v1",
        "brightline.intake.call.ended.v1",
        "brightline.callback.rate.computed.v1",
        "brightline.dispatch.planned-outage.registered.v1",
    }
)
# Events whose inputs depend on the pack in force (which limits it has).
BY_THE_BOOK = frozenset(
    {"brightline.casework.case.opened.v1", "brightline.casework.case.status-changed.v1"}
)


def inputs_for(event: Event, book: PolicyBook) -> list[Input]:
    kind = event.type
    if kind.startswith("sla_monitor.supervisor."):
        return _supervisor(event)
    p = event.payload()
    match kind:
        case "brightline.casework.case.opened.v1":
            return _case_opened(p, book)
        case "brightline.casework.case.status-changed.v1":
            return _case_status(p, book)
    return _inputs(kind, p)


def acts_on(event: Event) -> bool:
    """Whether the monitor has anything to do with an event: a KPI fact to keep or a deadline
    input to apply. The others (a repair's ticket.recorded, an order's assignment, a follower's
    creation) open no transaction and are not logged: replay, which rebuilds from the inputs of
    the logged events, would take nothing from them. Exact, by the same translation the handler
    applies; events whose inputs depend on the pack in force are always taken."""
    if event.type in KPI_FACTS or event.type in BY_THE_BOOK:
        return True
    return bool(_inputs(event.type, event.payload()))


def _inputs(kind: str, p) -> list[Input]:
    match kind:
        case "brightline.intake.call.ringing.v1" | "brightline.intake.call.ringing.v2":
            return [_answer_open(p.call_id, p.rang_at)]
        case "brightline.intake.call.answered.v1":
            return _call_answered(p)
        case "brightline.intake.call.ended.v1":
            if p.answered_at is not None:
                return _call_answered(p)
            return [
                *_call_rang(p),
                Cancel(
                    subject_type="call",
                    subject_id=p.call_id,
                    limit_keys=("call.answer",),
                    at=p.ended_at,
                    reason=f"call ended unanswered ({p.cause})",
                ),
            ]
        case "brightline.dispatch.work-order.created.v1":
            if not p.is_lead:
                return []  # folded into an outage incident: the lead's clock is the one clock
            # From the ticket's 受理: queue lag before dispatch saw it is counted.
            return [_arrival_open(p, p.reported_at or p.created_at)]
        case "brightline.dispatch.work-order.created.v2":
            # v1's created and, when its step moved the order on, v1's status change.
            change = p.status_change()
            return [
                *_inputs(CREATED_V1, p.as_created_v1()),
                *(_inputs(STATUS_CHANGED_V1, change) if change is not None else []),
            ]
        case (
            "brightline.dispatch.work-order.promoted.v1"
            | "brightline.dispatch.work-order.promoted.v2"
        ):
            # A follower of an incident stands for itself now: its own clock, from its 受理.
            return [_arrival_open(p, p.reported_at)]
        case "brightline.dispatch.work-order.status-changed.v1":
            if p.status == "on_site":
                return [
                    Meet(
                        subject_type="work_order",
                        subject_id=p.work_order_id,
                        limit_keys=ARRIVAL,
                        at=p.changed_at,
                    )
                ]
            if p.status == "cancelled":
                return [
                    Cancel(
                        subject_type="work_order",
                        subject_id=p.work_order_id,
                        limit_keys=None,
                        at=p.changed_at,
                        reason=p.reason or "work order cancelled",
                    )
                ]
            return []
        case "brightline.dispatch.work-order.returned.v1":
            if p.resolution in ("paid_service_referral", "restored_with_outage"):
                return [
                    Cancel(
                        subject_type="work_order",
                        subject_id=p.work_order_id,
                        limit_keys=ARRIVAL,
                        at=p.returned_at,
                        reason=p.resolution,
                    )
                ]
            return []
        case "brightline.intake.ticket.recorded.v1" | "brightline.intake.ticket.recorded.v2":
            return _service_request_recorded(p)
        case "brightline.intake.ticket.milestone-recorded.v1":
            return _milestone(p)
        case "brightline.dispatch.supply.cause-removed.v1":
            return [
                Open(
                    limit_key="supply.restore",
                    subject_type="interruption",
                    subject_id=p.interruption_id,
                    ticket_id=None,
                    at=p.removed_at,
                )
            ]
        case "brightline.dispatch.supply.restored.v1":
            return [_restored(p.interruption_id, p.restored_at)]
        case "brightline.dispatch.outage.restored.v1":
            return [_restored(p.incident_id, p.restored_at)]
        case "brightline.callback.task.created.v1":
            return [
                Open(
                    limit_key="callback.window",
                    subject_type="callback_task",
                    subject_id=p.task_id,
                    ticket_id=p.ticket_id,
                    at=p.created_at,
                    unit_id=p.unit_id,
                    ticket_type=p.ticket_type,
                )
            ]
        case "brightline.callback.outcome.recorded.v1":
            return [
                Meet(
                    subject_type="callback_task",
                    subject_id=p.task_id,
                    limit_keys=("callback.window",),
                    at=p.recorded_at,
                )
            ]
    return []


# 服务申请 sub-type -> (limit opened when the ticket is recorded, or None)
SERVICE_LIMITS = {
    "appointment": "appointment.arrival",
    "bill_query_written": "bill_query.written_reply",
    "meter_fault": "meter.fault",
    "connection_residential": "connection.residential",
}
# milestone -> (limits it meets, limit it opens)
MILESTONES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "arrived": (("appointment.arrival",), None),
    "written_reply_sent": (("bill_query.written_reply",), None),
    "meter_fault_handled": (("meter.fault",), None),
    "accepted_with_contract": ((), "connection.non_residential"),
    "power_connected": (("connection.residential", "connection.non_residential"), None),
}


def _service_request_recorded(p) -> list[Input]:
    key = SERVICE_LIMITS.get(p.service_subtype or "")
    if p.ticket_type != "service_request" or key is None:
        return []
    # An appointment's clock is the agreed hour: it opens at the hour's start.
    at = p.appointment_at if key == "appointment.arrival" else p.recorded_at
    if at is None:
        return []
    return [
        Open(
            limit_key=key,
            subject_type="ticket",
            subject_id=p.ticket_id,
            ticket_id=p.ticket_id,
            at=at,
            ticket_type=p.ticket_type,
        )
    ]


def _milestone(p) -> list[Input]:
    meets, opens = MILESTONES[p.milestone]
    subject = dict(subject_type="ticket", subject_id=p.ticket_id)
    inputs: list[Input] = []
    if meets:
        inputs.append(Meet(**subject, limit_keys=meets, at=p.occurred_at, actor=p.recorded_by))
    if opens:
        inputs.append(
            Open(
                limit_key=opens,
                **subject,
                ticket_id=p.ticket_id,
                at=p.occurred_at,
                ticket_type=p.ticket_type,
            )
        )
    return inputs


def _restored(interruption_id: str, at: datetime) -> Meet:
    return Meet(
        subject_type="interruption",
        subject_id=interruption_id,
        limit_keys=("supply.restore",),
        at=at,
    )


def _answer_open(call_id: str, rang_at: datetime) -> Open:
    return Open(
        limit_key="call.answer", subject_type="call", subject_id=call_id, ticket_id=None, at=rang_at
    )


TRANSFER = ("case.transfer", "complaint.transfer", "report.transfer")


def _case_opened(p, book: PolicyBook) -> list[Input]:
    pack = book.in_force(p.opened_at)
    keys = [transfer_key(pack, p.case_type)]
    if p.case_type in ("complaint", "report"):
        keys += [f"{p.case_type}.contact", f"{p.case_type}.reply"]
    return [
        Open(
            limit_key=key,
            subject_type="case",
            subject_id=p.case_id,
            ticket_id=p.ticket_id,
            at=p.opened_at,
            ticket_type=p.case_type,
        )
        for key in keys
        if key in pack.limits  # contact only where the pack has it
    ]


def _case_status(p, book: PolicyBook) -> list[Input]:
    subject = dict(subject_type="case", subject_id=p.case_id)
    # A status note never stops or restarts a clock: pauses are explicit, audited acts
    # (POST /deadlines/{id}/pause with a reason), published as deadline.paused events.
    inputs: list[Input] = []
    reply = f"{p.case_type}.reply"
    if p.status == "reopened" and reply in book.in_force(p.changed_at).limits:
        # A reopened complaint or report owes the customer a new reply: a new clock, from the
        # pack in force at the reopening, beside the one met when it was first answered.
        inputs.append(
            Open(
                limit_key=reply,
                **subject,
                ticket_id=p.ticket_id,
                at=p.changed_at,
                ticket_type=p.case_type,
                round=max(p.reopen_count, 1),
            )
        )
    if p.status == "opened" and p.previous_status != "opened":
        # 回退: a department handed the case back; the centre owes a transfer again, on a clock
        # of its own from the pack in force at the return (the customer's reply clock runs on).
        pack = book.in_force(p.changed_at)
        inputs.append(
            Open(
                limit_key=transfer_key(pack, p.case_type),
                **subject,
                ticket_id=p.ticket_id,
                at=p.changed_at,
                ticket_type=p.case_type,
                round=max(p.transfer_round, 1),
            )
        )
    if p.status == "transferred":
        inputs.append(Meet(**subject, limit_keys=TRANSFER, at=p.changed_at))
    if p.status == "replied":
        # 1.1: the department's reply reached the first-ask owner, who now has 2 working days.
        # A reply after one sent back (or after a reopening) opens a clock of its own.
        inputs.append(
            Open(
                limit_key="first_ask.answer",
                subject_type="case",
                subject_id=p.case_id,
                ticket_id=p.ticket_id,
                at=p.changed_at,
                ticket_type=p.case_type,
                round=max(p.reply_round - 1, 0),
            )
        )
    if p.status == "investigating" and p.previous_status == "replied":
        # 审核: the reply was sent back; nothing is left to answer the customer with until the
        # department replies again (the customer's reply clock runs on).
        inputs.append(
            Cancel(
                **subject,
                limit_keys=("first_ask.answer",),
                at=p.changed_at,
                reason="the reply was sent back to the department",
            )
        )
    if p.status in ("investigating", "replied", "answered"):
        inputs.append(
            Meet(**subject, limit_keys=("complaint.contact", "report.contact"), at=p.changed_at)
        )
    if p.status == "answered":
        inputs.append(
            Meet(
                **subject,
                limit_keys=("complaint.reply", "report.reply", "first_ask.answer"),
                at=p.changed_at,
            )
        )
    if p.status == "closed":
        inputs.append(Cancel(**subject, limit_keys=None, at=p.changed_at, reason="case closed"))
    return inputs


def _supervisor(event: Event) -> list[Input]:
    d = event.data
    at = _t(d["at"])
    if event.type == SUPERVISOR_OPEN:
        return [
            Open(
                limit_key=d["limit_key"],
                subject_type=d["subject_type"],
                subject_id=d["subject_id"],
                ticket_id=d.get("ticket_id"),
                at=at,
                unit_id=d.get("unit_id"),
                ticket_type=d.get("ticket_type"),
            )
        ]
    # The supervisor's other acts name one clock of one subject and who acted.
    act = dict(
        subject_type=d["subject_type"],
        subject_id=d["subject_id"],
        limit_keys=(d["limit_key"],),
        at=at,
        actor=d.get("by"),
    )
    if event.type == SUPERVISOR_PAUSE:
        return [Pause(**act, reason=d.get("reason") or "paused by supervisor")]
    if event.type == SUPERVISOR_RESUME:
        return [Resume(**act)]
    if event.type == SUPERVISOR_MEET:
        return [Meet(**act)]
    if event.type == SUPERVISOR_CANCEL:
        return [Cancel(**act, reason=d.get("reason") or "cancelled by supervisor")]
    return []
