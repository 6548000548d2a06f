"""Events dispatch reacts to, translated into commands."""

from brightline.contracts import Event
from brightline.contracts.topics import CALLBACK_TASKS, INTAKE_TICKETS, SLA_DEADLINES
from brightline.dispatch import handlers
from brightline.dispatch.domain import commands
from brightline.dispatch.settings import DispatchSettings
from brightline.messaging import Route, UnitOfWork
from brightline.messaging.consumer import handles_only

LINK_DETAILS = (
    "area_code",
    "address",
    "meter_no",
    "latitude",
    "longitude",
    "caller_name",
    "phone",
    "ticket_no",
    "description",
)


def make_routes(settings: DispatchSettings) -> dict[str, Route]:
    seal = settings.personal_data_seal()

    async def on_ticket_recorded(event: Event, uow: UnitOfWork) -> None:
        # Crews are told whom to call and where to go: dispatch opens the caller's details.
        ticket = seal.opened(event.payload())
        if ticket.ticket_type == "consultation" and (
            ticket.linked_incident_id or ticket.linked_ticket_id
        ):
            # A repeat call intake linked to work of ours: the incident or order must know it.
            await handlers.record_link(
                commands.RecordLink(
                    ticket.ticket_id,
                    ticket.recorded_at,
                    incident_id=ticket.linked_incident_id,
                    linked_ticket_id=ticket.linked_ticket_id,
                    details={k: getattr(ticket, k) for k in LINK_DETAILS},
                ),
                uow,
                settings,
            )
            return
        if ticket.ticket_type != "repair":
            return
        await handlers.create_work_order(
            commands.CreateWorkOrder(
                ticket.ticket_id,
                ticket.area_code,
                fault_scope=ticket.fault_scope,
                meter_no=ticket.meter_no,
                latitude=ticket.latitude,
                longitude=ticket.longitude,
                reported_at=ticket.recorded_at,
                address=ticket.address,
                description=ticket.description,
                ticket_no=ticket.ticket_no,
                caller_name=ticket.caller_name,
                phone=ticket.phone,
            ),
            uow,
            settings,
        )

    async def on_reopen_requested(event: Event, uow: UnitOfWork) -> None:
        p = event.payload()
        if p.origin != "dispatch":  # intake and casework reopen their own
            return
        await handlers.reopen(
            commands.ReopenRepair(p.ticket_id, p.reason, p.requested_at), uow, settings
        )

    async def on_deadline_opened(event: Event, uow: UnitOfWork) -> None:
        p = event.payload()
        if p.subject_type == "work_order" and p.limit_key.startswith("repair.arrival."):
            await handlers.set_arrival_deadline(p.subject_id, p.due_at, uow)

    # Declared: only repairs, repeat calls linked to our work, our reopens and our clocks open a
    # transaction here (see handles_only).
    def repair_or_link(e: Event) -> bool:
        kind = e.data.get("ticket_type")
        linked = e.data.get("linked_incident_id") or e.data.get("linked_ticket_id")
        return kind == "repair" or (kind == "consultation" and bool(linked))

    return {
        "brightline.intake.ticket.recorded.v1": handles_only(repair_or_link, on_ticket_recorded),
        "brightline.intake.ticket.recorded.v2": handles_only(repair_or_link, on_ticket_recorded),
        "brightline.callback.reopen.requested.v1": handles_only(
            lambda e: e.data.get("origin") == "dispatch", on_reopen_requested
        ),
        "brightline.sla.deadline.opened.v1": handles_only(
            lambda e: e.data.get("subject_type") == "work_order", on_deadline_opened
        ),
    }


TOPICS = [INTAKE_TICKETS, CALLBACK_TASKS, SLA_DEADLINES]
