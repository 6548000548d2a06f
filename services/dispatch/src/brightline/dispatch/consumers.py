"""Events dispatch reacts to, translated into commands."""

from collections.abc import Iterable, Iterator

from brightline.contracts import Event
from brightline.contracts.topics import consumed_by
from brightline.dispatch.domain import commands
from brightline.dispatch.domain.model import folds_into_no_incident
from brightline.messaging import only_if


def on_ticket_recorded(event: Event) -> commands.RecordLink | commands.CreateWorkOrder | None:
    ticket = event.payload()
    if ticket.ticket_type == "consultation" and (
        ticket.linked_incident_id or ticket.linked_ticket_id
    ):
        # A repeat call intake linked to work of ours: the incident or order must know it.
        return commands.RecordLink(
            ticket.ticket_id,
            ticket.recorded_at,
            incident_id=ticket.linked_incident_id,
            linked_ticket_id=ticket.linked_ticket_id,
            details={k: getattr(ticket, k) for k in commands.LINK_DETAILS},
        )
    if ticket.ticket_type != "repair":
        return None
    return commands.CreateWorkOrder(
        ticket.ticket_id,
        ticket.area_code,
        fault_scope=ticket.fault_scope,
        fault_started_at=ticket.fault_started_at,
        meter_no=ticket.meter_no,
        latitude=ticket.latitude,
        longitude=ticket.longitude,
        reported_at=ticket.recorded_at,
        address=ticket.address,
        description=ticket.description,
        ticket_no=ticket.ticket_no,
        caller_name=ticket.caller_name,
        phone=ticket.phone,
    )


def _repairs(events: Iterable[Event]) -> Iterator[tuple[dict, bool]]:
    """The events' repairs with an area code, each with whether it folds into no incident (no
    shared equipment, no meter to place). Read off the event's plain fields (none of them is
    sealed)."""
    for event in events:
        data = event.data
        if (
            event.type.startswith(TICKET_RECORDED)
            and data.get("ticket_type") == "repair"
            and data.get("area_code")
        ):
            yield data, folds_into_no_incident(data.get("fault_scope"), data.get("meter_no"))


def ordinary_repairs(events: Iterable[Event]) -> dict[str, str]:
    """Area code by ticket of the events' repairs known to lead an order of their own: what
    create_work_order reads for them, it may read for all at once."""
    return {data["ticket_id"]: data["area_code"] for data, ordinary in _repairs(events) if ordinary}


def fold_reports(events: Iterable[Event]) -> dict[str, str | None]:
    """Meter (or None) by ticket of the events' repairs that may fold into an incident: what
    create_work_order reads for each of them, it may read for all at once."""
    return {
        data["ticket_id"]: data.get("meter_no")
        for data, ordinary in _repairs(events)
        if not ordinary
    }


def on_reopen_requested(event: Event) -> commands.ReopenRepair | None:
    p = event.payload()
    if p.origin != "dispatch":  # intake and casework reopen their own
        return None
    return commands.ReopenRepair(p.ticket_id, p.reason, p.requested_at)


# Declared: only repairs, repeat calls linked to our work and our reopens open a transaction
# here (see only_if). An order's arrival deadline is dispatch's own count (handlers.publish).
def repair_or_link(e: Event) -> bool:
    kind = e.data.get("ticket_type")
    linked = e.data.get("linked_incident_id") or e.data.get("linked_ticket_id")
    return kind == "repair" or (kind == "consultation" and bool(linked))


TICKET_RECORDED = "brightline.intake.ticket.recorded."
TRANSLATORS = {
    "brightline.intake.ticket.recorded.v1": only_if(repair_or_link, on_ticket_recorded),
    "brightline.intake.ticket.recorded.v2": only_if(repair_or_link, on_ticket_recorded),
    "brightline.callback.reopen.requested.v1": only_if(
        lambda e: e.data.get("origin") == "dispatch", on_reopen_requested
    ),
}

# What this service subscribes to is declared once, in the topic registry (its ACLs too).
TOPICS = consumed_by("dispatch")
