"""An incident's grid topology as a graph: its feeder, the transformer under it, and the calls
(tickets) the incident gathered. Pure: the incident and its work orders in, nodes and links out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def incident_graph(
    incident: Mapping[str, Any], orders: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    feeder = incident.get("feeder_id")
    transformer = incident.get("transformer_id")
    if feeder:
        nodes.append({"id": f"feeder:{feeder}", "kind": "feeder", "name": feeder})
    if transformer:
        nodes.append(
            {"id": f"transformer:{transformer}", "kind": "transformer", "name": transformer}
        )
        if feeder:
            links.append({"source": f"feeder:{feeder}", "target": f"transformer:{transformer}"})
    top = f"transformer:{transformer}" if transformer else (f"feeder:{feeder}" if feeder else None)
    tickets = list(dict.fromkeys(incident.get("linked_ticket_ids") or []))
    for o in orders:
        if o.get("incident_id") == incident.get("id") and o.get("ticket_id") not in tickets:
            tickets.append(o["ticket_id"])
    for ticket in tickets:
        nodes.append({"id": f"call:{ticket}", "kind": "call", "name": ticket})
        if top:
            links.append({"source": top, "target": f"call:{ticket}"})
    return {"nodes": nodes, "links": links}
