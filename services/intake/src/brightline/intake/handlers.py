"""Intake's use cases as plain functions over a unit of work. Entry points commit; these never do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import structlog

from brightline.contracts.events.common import TicketType
from brightline.contracts.events.dispatch import (
    LinkedTicketReleasedV1,
    OutageCancelledV1,
    OutageDeclaredV1,
    OutageRestoredV1,
    OutageUpdatedV1,
    OutageUpdatedV2,
    PlannedOutageCancelledV1,
    PlannedOutageRegisteredV1,
    WorkOrderCreatedV1,
    WorkOrderCreatedV2,
    WorkOrderReturnedV1,
    WorkOrderStatusChangedV1,
)
from brightline.contracts.events.intake import (
    CallAnsweredV1,
    CallEndedV1,
    CallRingingV2,
    EscalationRequestedV1,
    EscalationResolvedV1,
    OwnerChangeReason,
    TicketCompletedV2,
    TicketOwnerChangedV1,
    TicketRecordedV2,
    TicketReopenedV1,
)
from brightline.contracts.ids import new_id
from brightline.contracts.sealed import PersonalDataSeal
from brightline.etiquette import PhraseBook, default_book
from brightline.intake import reply_promise
from brightline.intake.adapters.repository import (
    FINISHED_ORDER_STATES,
    AuditRepository,
    CallRepository,
    DirectoryRepository,
    EscalationRepository,
    OutageRepository,
    TicketRepository,
    riding_work_orders,
    write_outage_updates,
)
from brightline.intake.adapters.rule_files import call_outcomes, scripts
from brightline.intake.domain import commands, events
from brightline.intake.domain.calls import CallRecord
from brightline.intake.domain.linking import Link, find_link
from brightline.intake.domain.model import CASE_TYPES, Ticket, require_fields
from brightline.intake.domain.outage_updates import OutageUpdateFold
from brightline.intake.domain.work_orders import WorkOrderFold
from brightline.intake.planned_outages import PlannedOutageRepository
from brightline.intake.settings import IntakeSettings
from brightline.messaging import Handler, MessageBus, UnitOfWork
from brightline.messaging.audit import note_insert
from brightline.platform import clock

# Fields an agent writes *to the customer* (checked against the forbidden phrases, 服务忌语).
CUSTOMER_FACING_FIELDS = ("note_to_customer", "reply")


class NotFound(LookupError):
    pass


class Conflict(ValueError):
    pass


class NotHeld(ValueError):
    """Tickets named for a handover that are not the agent's open tickets (closed, or another's)."""


class ReasonRequired(ValueError):
    """An act that must say why (a declined escalation) came without a reason."""


now = clock.now  # tests pin this module's time through it
log = structlog.get_logger()


# -- tickets ---------------------------------------------------------------------------------
@dataclass
class Recorded:
    ticket: Ticket
    link: Link | None


async def record_ticket(
    command: commands.RecordTicket,
    uow: UnitOfWork,
    *,
    phrase_book: PhraseBook,
    tz: str,
    seal: PersonalDataSeal,
) -> Recorded:
    """Record a ticket. A repair report for a fault already being handled (open repair at the
    same address or meter, or an active outage over the area) becomes a consultation linked to it."""
    details = dict(command.details)
    # A report's (举报) reporter is protected: intake keeps none of their contact details; they
    # travel once, in the recorded event, to casework's vault.
    reporter = (
        {k: details.pop(k) for k in REPORTER_FIELDS if k in details}
        if command.ticket_type in CONFIDENTIAL_TYPES
        else {}
    )
    for name in CUSTOMER_FACING_FIELDS:
        if details.get(name):
            phrase_book.ensure_polite(details[name])
    tickets = TicketRepository(uow.session)
    ticket_type, link = command.ticket_type, None
    numbered: tuple[str, datetime] | None = None  # a repeat call's: its number, its time
    chased = await _case_being_chased(command, tickets)
    if ticket_type == "repair":
        # A repair's own fields (the time the power went off among them) are asked of every
        # caller, also of one whose call turns out to be about a fault already being handled.
        require_fields(
            ticket_type, command.description, details, scripts().get(ticket_type).required_fields
        )
        area_code, meter_no = details.get("area_code"), details.get("meter_no")
        # The lock is its own statement (with the Idempotency-Key's claim, when the route
        # deferred it): the lookup must run on a snapshot taken after it is held, or it would
        # miss a repair a concurrent call at this address has just committed.
        # The caller's customer record, when the call names one, comes with it.
        customer_area, customer_meter = await tickets.lock_address_of(
            details.get("address"),
            meter_no,
            details.get("customer_id") if not area_code or not meter_no else None,
        )
        area_code = area_code or customer_area
        # The customer's own meter places the call under the grid's equipment.
        meter_no = meter_no or customer_meter
        # Most calls report a fault nobody has reported yet: the ticket goes in with the
        # lookups, in one statement, unless they find the fault being handled or a planned
        # outage; then the same statement returns what they found, for the link below.
        repair = _new_ticket(command, ticket_type, dict(details), tz)
        context = await tickets.add_unless_handled(
            repair, meter_no=meter_no, area_code=area_code, tz=tz
        )
        if context is None:
            publish(repair.events, uow, seal, reporter=reporter)
            return Recorded(repair, None)
        numbered = context.ticket_no, repair.recorded_at
        link = find_link(
            address=details.get("address"),
            meter_no=meter_no,
            area_code=area_code,
            open_repairs=context.open_repairs,
            active_outages=context.active_outages,
        )
        if link is None and context.planned_outage_id:
            # A call about a planned outage (计划停电) in effect is a consultation linked to it.
            ticket_type = "consultation"
            details.update(reported_as="repair", planned_outage_id=context.planned_outage_id)
        if link is not None:
            ticket_type = "consultation"
            details.update(
                reported_as="repair",
                linked_ticket_id=link.ticket_id,
                linked_incident_id=link.incident_id,
            )
            details = {k: v for k, v in details.items() if v is not None}
    ticket = _new_ticket(command, ticket_type, details, tz, at=numbered[1] if numbered else None)
    if chased is not None:
        # Told the progress on the spot; the case's own callback covers this call.
        ticket.complete(
            command.first_ask_owner, ticket.recorded_at, details.get("note_to_customer")
        )
    if numbered is not None:
        # Numbered by the statement that found the fault being handled: the ticket goes in
        # with the commit's last statement, not in a round trip of its own.
        ticket.no = numbered[0]
        tickets.add_at_commit(ticket, uow, tz=tz)
    else:
        await tickets.add(ticket, tz=tz)
    publish(ticket.events, uow, seal, reporter=reporter)
    if chased is not None:
        _emit_completed(
            ticket, ticket.recorded_at, command.first_ask_owner, None, uow, seal, callback_due=False
        )
    return Recorded(ticket, link)


def _new_ticket(
    command: commands.RecordTicket,
    ticket_type: TicketType,
    details: dict,
    tz: str,
    *,
    at: datetime | None = None,
) -> Ticket:
    """The ticket a call records as `ticket_type` (a repair may have become a consultation),
    recorded now or `at` (the time its number was drawn for), with its call script and reply
    promise; numbered when inserted unless numbered already."""
    book = scripts()
    details.setdefault(
        "script",
        book.get(ticket_type).ref
        if ticket_type == command.ticket_type
        else book.get(command.ticket_type).ref,
    )
    at = at or now()
    if promise := reply_promise.promise_for(ticket_type, at, tz):
        details["reply_promise"] = promise
    return Ticket.record(
        id=new_id(),
        no="",
        type=ticket_type,
        recorded_at=at,
        first_ask_owner=command.first_ask_owner,
        description=command.description,
        details=details,
        required_fields=book.get(ticket_type).required_fields,
    )


class NotChaseable(ValueError):
    """`linked_ticket_id` names no case ticket still being handled."""


async def _case_being_chased(command: commands.RecordTicket, tickets: TicketRepository):
    """A consultation about a case already being handled (a complaint "already being handled")
    links to that case's ticket; casework chases (催办) the case from the recorded event."""
    linked_id = command.details.get("linked_ticket_id")
    if not linked_id:
        return None
    if command.ticket_type != "consultation":
        raise NotChaseable("only a consultation links to a case being handled")
    linked = await tickets.get(linked_id)
    if linked is None or linked.type not in CASE_TYPES or linked.status == "closed":
        raise NotChaseable(
            f"ticket {linked_id} is no complaint, report or other case being handled"
        )
    return linked


CONFIDENTIAL_TYPES = frozenset({"report"})
REPORTER_FIELDS = ("caller_name", "phone", "address", "customer_id", "meter_no")


def publish(
    domain_events: list, uow: UnitOfWork, seal: PersonalDataSeal, *, reporter: dict | None = None
) -> None:
    for event in domain_events:
        if isinstance(event, events.TicketRecorded):
            t = event.ticket
            uow.emit(
                seal.sealed(
                    TicketRecordedV2,
                    ticket_id=t.id,
                    ticket_no=t.no,
                    ticket_type=t.type,
                    recorded_at=t.recorded_at,
                    first_ask_owner=t.first_ask_owner,
                    description=t.description,
                    **{
                        k: v
                        for k, v in {**t.details, **(reporter or {})}.items()
                        if k in TicketRecordedV2.model_fields
                    },
                )
            )


async def complete_ticket(
    command: commands.CompleteTicket, uow: UnitOfWork, *, seal: PersonalDataSeal
) -> Ticket:
    tickets = TicketRepository(uow.session)
    ticket = await tickets.get(command.ticket_id, for_update=True)
    if ticket is None or (
        not command.supervisor and command.by not in (ticket.owner, ticket.first_ask_owner)
    ):
        # Another agent's ticket answers as if it did not exist: nothing about it leaks.
        raise NotFound(f"ticket {command.ticket_id} does not exist")
    at = now()
    # IllegalTransition for other types or a closed ticket
    ticket.complete(command.by, at, command.answer)
    await tickets.save(ticket)
    _emit_completed(ticket, at, command.by, command.unit_id, uow, seal)
    return ticket


def _emit_completed(
    ticket: Ticket,
    at: datetime,
    by: str,
    unit_id: str | None,
    uow: UnitOfWork,
    seal: PersonalDataSeal,
    *,
    callback_due: bool = True,
) -> None:
    uow.emit(
        seal.sealed(
            TicketCompletedV2,
            ticket_id=ticket.id,
            ticket_type=ticket.type,
            completed_at=at,
            completed_by=by,
            unit_id=unit_id,
            phone=ticket.details.get("phone"),
            answer=ticket.details.get("answer"),
            callback_due=callback_due,
        )
    )


async def record_call_outcome(
    command: commands.RecordCallOutcome, uow: UnitOfWork, *, tz: str, seal: PersonalDataSeal
) -> tuple[Ticket, str]:
    """A call that ended without a repair or case ticket (self-check solved it, a fault in the
    customer's own installation referred to paid service, answered on the spot) still leaves a
    record: a consultation with its outcome, counted, closed at once, and called back when the
    rules say so. Returns the ticket and what the agent says."""
    book = call_outcomes()
    rule = book.outcomes[command.outcome]  # KeyError: the route validated the name
    said = book.say(command.outcome, command.details.get("language") or "zh")
    answer = command.answer or said
    details = {
        **command.details,
        "call_outcome": command.outcome,
        "reported_as": rule.reported_as,
        "script": command.details.get("script") or scripts().get(rule.reported_as).ref,
    }
    at = now()
    ticket = Ticket.record(
        id=str(uuid.uuid4()),
        no="",
        type="consultation",
        recorded_at=at,
        first_ask_owner=command.agent,
        description=command.description,
        details=details,
        required_fields=("description",),
    )
    ticket.complete(command.agent, at, answer)
    await TicketRepository(uow.session).add(ticket, tz=tz)
    publish(ticket.events, uow, seal)
    _emit_completed(
        ticket, at, command.agent, command.unit_id, uow, seal, callback_due=rule.callback
    )
    return ticket, said


async def reopen_ticket(command: commands.ReopenTicket, uow: UnitOfWork) -> Ticket | None:
    tickets = TicketRepository(uow.session)
    ticket = await tickets.get(command.ticket_id, for_update=True)
    if ticket is None or not ticket.reopen():
        return None
    await tickets.save(ticket)
    uow.emit(TicketReopenedV1(ticket_id=ticket.id, reason=command.reason, reopened_at=now()))
    return ticket


async def follow_case(command: commands.FollowCase, uow: UnitOfWork) -> Ticket | None:
    tickets = TicketRepository(uow.session)
    ticket = await tickets.get(command.ticket_id, for_update=True)
    if ticket is None or not ticket.follow_case(command.case_status, command.changed_at):
        return None
    await tickets.save(ticket)
    return ticket


async def change_owner(
    ticket: Ticket,
    new_owner: str,
    *,
    reason: OwnerChangeReason,
    by: str,
    uow: UnitOfWork,
    escalation_id: str | None = None,
) -> None:
    at = now()
    previous = ticket.hand_to(new_owner)
    await TicketRepository(uow.session).save(ticket)
    await AuditRepository(uow.session).add(
        at=at,
        actor=by,
        action="ticket_owner_changed",
        ticket_id=ticket.id,
        escalation_id=escalation_id,
        previous_owner=previous,
        new_owner=new_owner,
        reason=reason,
    )
    uow.emit(
        TicketOwnerChangedV1(
            ticket_id=ticket.id,
            previous_owner=previous,
            new_owner=new_owner,
            reason=reason,
            changed_by=by,
            changed_at=at,
        )
    )


async def hand_over(command: commands.HandOver, uow: UnitOfWork) -> list[Ticket]:
    """Shift handover: the agent's open tickets (every one, or those named) go to the named agent,
    in one transaction; a named ticket the agent does not hold open moves none."""
    if not command.to_agent.strip() or command.to_agent == command.from_agent:
        raise Conflict("hand over to another, named agent")
    tickets = TicketRepository(uow.session)
    moved = await tickets.list(
        owner=command.from_agent, open_only=True, for_update=True, limit=10_000
    )
    if command.ticket_ids is not None:
        held = {t.id: t for t in moved}
        if missing := [i for i in dict.fromkeys(command.ticket_ids) if i not in held]:
            raise NotHeld(f"not open tickets of {command.from_agent}: {', '.join(missing)}")
        moved = [held[i] for i in dict.fromkeys(command.ticket_ids)]
    for ticket in moved:
        await change_owner(ticket, command.to_agent, reason="handover", by=command.by, uow=uow)
    await AuditRepository(uow.session).add(
        at=now(),
        actor=command.by,
        action="shift_handover",
        from_agent=command.from_agent,
        to_agent=command.to_agent,
        ticket_ids=[t.id for t in moved],
    )
    return moved


# -- calls -----------------------------------------------------------------------------------
async def record_call_event(
    command: commands.RecordCallEvent, uow: UnitOfWork, *, seal: PersonalDataSeal
) -> tuple[CallRecord, bool]:
    """Merge one switch event into the call record; (record, False) for a duplicate, which changes nothing."""
    calls = CallRepository(uow.session)
    received = now()
    call = await calls.get_for_update(
        command.call_id, received
    )  # row lock: serialises racing webhooks
    if not await calls.record_event_once(
        command.call_id, command.event, command.timestamp, received, command.body
    ):
        return call, False
    announce = call.apply(
        command.event,
        command.timestamp,
        caller_number=command.caller_number,
        called_number=command.called_number,
        queue=command.queue,
        agent_extension=command.agent_extension,
        agent_id=command.agent_id,
        cause=command.cause,
    )
    await calls.save(call)
    for state in announce:
        uow.emit(_call_event(call, state, seal))
    return call, True


async def give_up_call(
    command: commands.GiveUpCall, uow: UnitOfWork, *, seal: PersonalDataSeal
) -> bool:
    """End a call whose hangup was lost (domain.calls), if it still is one under its row lock:
    the switch's answer or hangup may have come since the scan found it. True when it was
    given up."""
    calls = CallRepository(uow.session)
    at = now()
    call = await calls.get_for_update(command.call_id, at)
    if not call.quiet_too_long(at, command.limits):
        return False
    for state in call.give_up(at):
        uow.emit(_call_event(call, state, seal))
    await calls.save(call)
    # Who called stays out of the log: the call id leads to the record for those allowed.
    log.warning(
        "call given up: no hangup from the switch",
        call_id=call.call_id,
        queue=call.queue,
        rang_at=call.rang_at.isoformat() if call.rang_at else None,
        answered_at=call.answered_at.isoformat() if call.answered_at else None,
    )
    return True


def _call_event(call: CallRecord, state: str, seal: PersonalDataSeal):
    if state == "ringing":
        assert call.rang_at is not None, "a ringing call was announced by its newCall"
        return seal.sealed(
            CallRingingV2,
            call_id=call.call_id,
            caller_number=call.caller_number or "",
            called_number=call.called_number or "",
            queue=call.queue or "",
            rang_at=call.rang_at,
        )
    if state == "answered":
        assert call.answered_at is not None, "an answered call was announced by its answer"
        return CallAnsweredV1(
            call_id=call.call_id,
            queue=call.queue or "",
            agent_extension=call.agent_extension or "",
            agent_id=call.agent_id,
            rang_at=call.rang_at,
            answered_at=call.answered_at,
            answer_delay_seconds=call.answer_delay_seconds,
        )
    assert call.ended_at and call.end_cause, "an ended call was announced by its hangup"
    return CallEndedV1(
        call_id=call.call_id,
        queue=call.queue or "",
        cause=call.end_cause,
        rang_at=call.rang_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        agent_extension=call.agent_extension,
        answer_delay_seconds=call.answer_delay_seconds,
    )


# -- escalations -----------------------------------------------------------------------------
async def request_escalation(command: commands.RequestEscalation, uow: UnitOfWork) -> dict:
    caller_number = command.caller_number
    if command.call_id and not caller_number:
        call = await CallRepository(uow.session).get(command.call_id)
        caller_number = call.caller_number if call is not None else None
    if command.ticket_id and await TicketRepository(uow.session).get(command.ticket_id) is None:
        raise NotFound(f"ticket {command.ticket_id} does not exist")
    at = now()
    escalation_id = str(uuid.uuid4())
    row = dict(
        id=escalation_id,
        kind=command.kind,
        reason=command.reason,
        agent_id=command.agent_id,
        call_id=command.call_id,
        ticket_id=command.ticket_id,
        caller_number=caller_number,
        note=command.note,
        status="pending",
        requested_at=at,
    )
    await EscalationRepository(uow.session).add(**row)
    await AuditRepository(uow.session).add(
        at=at,
        actor=command.agent_id,
        action="escalation_requested",
        ticket_id=command.ticket_id,
        escalation_id=escalation_id,
        kind=command.kind,
        reason=command.reason,
    )
    uow.emit(
        EscalationRequestedV1(
            escalation_id=escalation_id,
            kind=command.kind,
            reason=command.reason,
            agent_id=command.agent_id,
            call_id=command.call_id,
            ticket_id=command.ticket_id,
            note=command.note,
            requested_at=at,
        )
    )
    return row


# From a state, the outcomes a supervisor may still record. Accepting first and then taking
# over or marking the number is the usual path; anything final ends it.
NEXT_OUTCOMES = {
    "pending": ("accepted", "taken_over", "marked_harassing", "declined"),
    "accepted": ("taken_over", "marked_harassing"),
}


async def resolve_escalation(command: commands.ResolveEscalation, uow: UnitOfWork) -> dict:
    escalations = EscalationRepository(uow.session)
    row = await escalations.get(command.escalation_id, for_update=True)
    if row is None:
        raise NotFound(f"escalation {command.escalation_id} does not exist")
    if command.outcome not in NEXT_OUTCOMES.get(row.status, ()):
        raise Conflict(
            f"escalation is {row.status}; allowed now: {list(NEXT_OUTCOMES.get(row.status, ()))}"
        )
    reason = (command.reason or "").strip() or None
    if command.outcome == "declined" and reason is None:
        # The agent is left with the caller: they must hear why help is not coming.
        raise ReasonRequired("a declined escalation names its reason")
    at = now()
    audit = AuditRepository(uow.session)
    if command.outcome == "taken_over":
        if row.ticket_id:
            ticket = await TicketRepository(uow.session).get(row.ticket_id, for_update=True)
            if ticket is None:
                raise NotFound(f"ticket {row.ticket_id} does not exist")
            await change_owner(
                ticket,
                command.supervisor_id,
                reason="takeover",
                by=command.supervisor_id,
                uow=uow,
                escalation_id=row.id,
            )
    elif command.outcome == "marked_harassing":
        if not row.caller_number:
            raise Conflict("the escalation names no caller number to mark")
        await DirectoryRepository(uow.session).mark_harassing(
            row.caller_number, command.supervisor_id, at, row.id
        )
    await escalations.resolve(row.id, command.outcome, command.supervisor_id, at, reason)
    await audit.add(
        at=at,
        actor=command.supervisor_id,
        action=f"escalation_{command.outcome}",
        ticket_id=row.ticket_id,
        escalation_id=row.id,
        **({"reason": reason} if reason else {}),
    )
    uow.emit(
        EscalationResolvedV1(
            escalation_id=row.id,
            outcome=command.outcome,
            supervisor_id=command.supervisor_id,
            resolved_at=at,
            reason=reason,
        )
    )
    return {
        **row._asdict(),
        "status": command.outcome,
        "supervisor_id": command.supervisor_id,
        "resolved_at": at,
        "resolution_reason": reason,
    }


# -- dispatch's facts, kept as they came (intake's read model) ---------------------------------


# The unit of work's OutageUpdateFold (session.info: one per unit of work, as its session is).
INCIDENTS = "intake_outage_updates"


def _outage_updates(uow: UnitOfWork) -> OutageUpdateFold:
    """The batch's outage updates, written in one statement at commit: a storm's reports each
    bring their incident an update, a statement each."""
    return uow.gathered(
        INCIDENTS, OutageUpdateFold, lambda fold: write_outage_updates(uow.session, fold)
    )


async def _updates_written(uow: UnitOfWork) -> None:
    """The updates gathered so far, written before another statement on outages: it applies
    after them, as in the batch's order."""
    if (fold := uow.session.info.get(INCIDENTS)) is not None:
        await write_outage_updates(uow.session, fold)


def _outage_updated(
    uow: UnitOfWork, event: OutageUpdatedV1 | OutageUpdatedV2, ticket_ids: list[str]
) -> None:
    own = _outage_updates(uow).updated(
        event.incident_id, ticket_ids, event.expected_restore_at, event.cause, event.status
    )
    note_insert(uow.session, "outages", [own])


async def outage_declared(event: OutageDeclaredV1, uow: UnitOfWork) -> None:
    await _updates_written(uow)
    await OutageRepository(uow.session).declare(event)


async def outage_updated(event: OutageUpdatedV1, uow: UnitOfWork) -> None:
    """v1 names every linked ticket again: either way, a union."""
    _outage_updated(uow, event, event.linked_ticket_ids)


async def outage_updated_v2(event: OutageUpdatedV2, uow: UnitOfWork) -> None:
    _outage_updated(uow, event, event.added_ticket_ids)


async def outage_restored(event: OutageRestoredV1, uow: UnitOfWork) -> None:
    await _updates_written(uow)
    await OutageRepository(uow.session).restore(event)
    tickets = TicketRepository(uow.session)
    # Every ticket of the incident closes: its repairs and the consultations linked to it.
    for ticket_id in event.ticket_ids:
        await tickets.close_repair(ticket_id)
        await tickets.close_linked(ticket_id, event.restored_at)


async def outage_cancelled(event: OutageCancelledV1, uow: UnitOfWork) -> None:
    await _updates_written(uow)
    await OutageRepository(uow.session).cancel(event)


async def linked_ticket_released(event: LinkedTicketReleasedV1, uow: UnitOfWork) -> None:
    await TicketRepository(uow.session).close_linked(event.ticket_id, event.released_at)


# The unit of work's WorkOrderFold (session.info: one per unit of work, as its session is).
ORDERS = "intake_work_orders"


def _work_orders(uow: UnitOfWork) -> WorkOrderFold:
    """The batch's work-order events, written at commit riding on its last statement: per event
    an upsert cost a statement, its ORM execution and its change capture (every repair brings
    three), then a statement of their own cost a round trip per batch."""
    return uow.gathered_to_ride(ORDERS, WorkOrderFold, riding_work_orders)


def _order_seen(
    uow: UnitOfWork,
    work_order_id: str,
    ticket_id: str,
    unit_id: str | None,
    status: str,
    at: datetime,
    crew_id: str | None = None,
) -> None:
    # Events can arrive out of order across partitions: never move a later state back.
    row = {
        "work_order_id": work_order_id,
        "ticket_id": ticket_id,
        "unit_id": unit_id,
        "status": status,
        "crew_id": crew_id,
        "updated_at": at,
    }
    _work_orders(uow).seen(row)
    note_insert(uow.session, "work_orders", [row])


async def work_order_created(event: WorkOrderCreatedV1, uow: UnitOfWork) -> None:
    if event.reopened_from_work_order_id:
        await TicketRepository(uow.session).reopen_for_work(event.ticket_id)
    _order_seen(
        uow, event.work_order_id, event.ticket_id, event.unit_id, "created", event.created_at
    )


async def work_order_status_changed(event: WorkOrderStatusChangedV1, uow: UnitOfWork) -> None:
    _order_seen(
        uow,
        event.work_order_id,
        event.ticket_id,
        event.unit_id,
        event.status,
        event.changed_at,
        event.crew_id,
    )
    if event.status in FINISHED_ORDER_STATES:
        await TicketRepository(uow.session).close_repair(event.ticket_id)
    elif event.previous_status == "returned":
        # The dispatcher sent the crew's return back (回单审核): the repair is being handled
        # again, and a caller asking now is told so, not that it is done.
        await TicketRepository(uow.session).reopen_for_work(event.ticket_id)


async def work_order_created_v2(event: WorkOrderCreatedV2, uow: UnitOfWork) -> None:
    """The creation and the status its step left the order in (offered to a crew), as v1's
    two events said them, and the arrival deadline of an order that leads."""
    await work_order_created(event.as_created_v1(), uow)
    if (change := event.status_change()) is not None:
        await work_order_status_changed(change, uow)
    if event.arrive_by is not None:  # a leading order: the deadline its clock opens with
        await keep_arrival_deadline(
            commands.KeepArrivalDeadline(
                event.work_order_id, event.ticket_id, event.arrive_by, event.created_at
            ),
            uow,
        )


async def work_order_returned(event: WorkOrderReturnedV1, uow: UnitOfWork) -> None:
    _order_seen(
        uow, event.work_order_id, event.ticket_id, event.unit_id, "returned", event.returned_at
    )
    tickets = TicketRepository(uow.session)
    await tickets.close_repair(event.ticket_id)
    # A linked consultation that dispatch reopened as an order of its own closes with it.
    await tickets.close_linked(event.ticket_id, event.returned_at)


async def keep_arrival_deadline(command: commands.KeepArrivalDeadline, uow: UnitOfWork) -> None:
    """A repair's arrival deadline, as dispatch told it (the clock the SLA monitor opens): what a
    repeat caller is told to expect."""
    row = {
        "work_order_id": command.work_order_id,
        "ticket_id": command.ticket_id,
        "status": "created",
        "updated_at": command.opened_at,
        "arrive_by": command.due_at,
    }
    _work_orders(uow).deadline(row)
    note_insert(uow.session, "work_orders", [row])


async def planned_outage_registered(event: PlannedOutageRegisteredV1, uow: UnitOfWork) -> None:
    await PlannedOutageRepository(uow.session).upsert(event)


async def planned_outage_cancelled(event: PlannedOutageCancelledV1, uow: UnitOfWork) -> None:
    await PlannedOutageRepository(uow.session).cancel(event.planned_outage_id)


HANDLERS: dict[type, Handler] = {
    commands.RecordTicket: record_ticket,
    commands.CompleteTicket: complete_ticket,
    commands.ReopenTicket: reopen_ticket,
    commands.HandOver: hand_over,
    commands.RecordCallEvent: record_call_event,
    commands.GiveUpCall: give_up_call,
    commands.RequestEscalation: request_escalation,
    commands.ResolveEscalation: resolve_escalation,
    commands.RecordCallOutcome: record_call_outcome,
    commands.FollowCase: follow_case,
    OutageDeclaredV1: outage_declared,
    OutageUpdatedV1: outage_updated,
    OutageUpdatedV2: outage_updated_v2,
    OutageRestoredV1: outage_restored,
    OutageCancelledV1: outage_cancelled,
    LinkedTicketReleasedV1: linked_ticket_released,
    WorkOrderCreatedV1: work_order_created,
    WorkOrderCreatedV2: work_order_created_v2,
    WorkOrderStatusChangedV1: work_order_status_changed,
    WorkOrderReturnedV1: work_order_returned,
    commands.KeepArrivalDeadline: keep_arrival_deadline,
    PlannedOutageRegisteredV1: planned_outage_registered,
    PlannedOutageCancelledV1: planned_outage_cancelled,
}


@lru_cache(maxsize=4)
def phrase_book_at(path: str) -> PhraseBook:
    """The forbidden-phrase book of the settings' file, else the shared one; loaded once."""
    return PhraseBook.load(path) if path else default_book()


def message_bus(settings: IntakeSettings) -> MessageBus:
    seal = settings.personal_data_seal()  # what intake publishes about a caller travels sealed
    return MessageBus(
        HANDLERS,
        phrase_book=lambda: phrase_book_at(settings.forbidden_phrases_file),
        tz=lambda: settings.business_timezone,
        seal=lambda: seal,
    )
