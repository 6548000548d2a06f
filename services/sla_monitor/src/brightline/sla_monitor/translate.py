"""Which deadline inputs each event means. Pure: an Event (and the policy book) in, inputs out.

Shared by the consumers and by replay. Supervisor actions taken over the API
(open, pause, resume) are logged as events of the `sla_monitor.*` types below
so that replay sees them too.
"""

from __future__ import annotations

from datetime import datetime

from brightline.contracts import Event
from brightline.sla_monitor.domain.monitor import Cancel, Input, Meet, Open, Pause, Resume
from brightline.sla_monitor.domain.policy import PolicyBook

ARRIVAL = ("repair.arrival.urban", "repair.arrival.rural", "repair.arrival.remote")
WAITING_FOR_CUSTOMER = "waiting_for_customer"  # a case status note that stops pausable clocks

SUPERVISOR_OPEN = "sla_monitor.supervisor.open"
SUPERVISOR_PAUSE = "sla_monitor.supervisor.pause"
SUPERVISOR_RESUME = "sla_monitor.supervisor.resume"


def _t(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def inputs_for(event: Event, book: PolicyBook) -> list[Input]:
    kind = event.type
    if kind.startswith("sla_monitor.supervisor."):
        return _supervisor(event)
    p = event.payload()
    match kind:
        case "brightline.intake.call.ringing.v1":
            return [_answer_open(p.call_id, p.rang_at)]
        case "brightline.intake.call.answered.v1":
            opened = [_answer_open(p.call_id, p.rang_at)] if p.rang_at else []
            return [
                *opened,
                Meet(
                    subject_type="call",
                    subject_id=p.call_id,
                    limit_keys=("call.answer",),
                    at=p.answered_at,
                ),
            ]
        case "brightline.intake.call.ended.v1":
            opened = [_answer_open(p.call_id, p.rang_at)] if p.rang_at else []
            if p.answered_at is not None:
                return [
                    *opened,
                    Meet(
                        subject_type="call",
                        subject_id=p.call_id,
                        limit_keys=("call.answer",),
                        at=p.answered_at,
                    ),
                ]
            return [
                *opened,
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
            return [
                Open(
                    limit_key=f"repair.arrival.{p.area_class}",
                    subject_type="work_order",
                    subject_id=p.work_order_id,
                    ticket_id=p.ticket_id,
                    # From the ticket's 受理: queue lag before dispatch saw it is counted.
                    at=p.reported_at or p.created_at,
                    unit_id=p.unit_id,
                    ticket_type="repair",
                )
            ]
        case "brightline.dispatch.work-order.promoted.v1":
            # A follower of an incident stands for itself now: its own clock, from its 受理.
            return [
                Open(
                    limit_key=f"repair.arrival.{p.area_class}",
                    subject_type="work_order",
                    subject_id=p.work_order_id,
                    ticket_id=p.ticket_id,
                    at=p.reported_at,
                    unit_id=p.unit_id,
                    ticket_type="repair",
                )
            ]
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
        case "brightline.casework.case.opened.v1":
            return _case_opened(p, book)
        case "brightline.casework.case.status-changed.v1":
            return _case_status(p)
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


def _answer_open(call_id: str, rang_at: datetime) -> Open:
    return Open(
        limit_key="call.answer", subject_type="call", subject_id=call_id, ticket_id=None, at=rang_at
    )


def _case_opened(p, book: PolicyBook) -> list[Input]:
    pack = book.in_force(p.opened_at)
    keys = ["case.transfer"]
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


def _case_status(p) -> list[Input]:
    subject = dict(subject_type="case", subject_id=p.case_id)
    inputs: list[Input] = []
    if p.note == WAITING_FOR_CUSTOMER:
        return [Pause(**subject, limit_keys=None, at=p.changed_at, reason=WAITING_FOR_CUSTOMER)]
    inputs.append(Resume(**subject, limit_keys=None, at=p.changed_at))  # a no-op unless paused
    if p.status == "transferred":
        inputs.append(Meet(**subject, limit_keys=("case.transfer",), at=p.changed_at))
    if p.status in ("investigating", "replied", "answered"):
        inputs.append(
            Meet(**subject, limit_keys=("complaint.contact", "report.contact"), at=p.changed_at)
        )
    if p.status == "answered":
        inputs.append(
            Meet(**subject, limit_keys=("complaint.reply", "report.reply"), at=p.changed_at)
        )
    if p.status == "closed":
        inputs.append(Cancel(**subject, limit_keys=None, at=p.changed_at, reason="case closed"))
    return inputs


def _supervisor(event: Event) -> list[Input]:
    d = event.data
    at = _t(d["at"])
    keys = (d["limit_key"],)
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
    if event.type == SUPERVISOR_PAUSE:
        return [
            Pause(
                subject_type=d["subject_type"],
                subject_id=d["subject_id"],
                limit_keys=keys,
                at=at,
                reason=d.get("reason") or "paused by supervisor",
            )
        ]
    if event.type == SUPERVISOR_RESUME:
        return [
            Resume(
                subject_type=d["subject_type"], subject_id=d["subject_id"], limit_keys=keys, at=at
            )
        ]
    return []
