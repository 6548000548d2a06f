"""Repeat-call linking (seed 004, 3.1): a second call about a fault already being handled is
recorded as a consultation linked to it, and the caller is told the progress and the
expected time. Pure."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Literal


def address_key(address: str | None) -> str | None:
    """Comparable form of an address: NFKC (full-width digits to ASCII), no spaces or
    punctuation, lower case. 'XX路 1号' and 'XX路1号' are one address."""
    if not address:
        return None
    text = unicodedata.normalize("NFKC", address).lower()
    text = re.sub(r"[\s,，.。·、\-－()（）#]+", "", text)
    return text or None


@dataclass(frozen=True)
class OpenRepair:
    ticket_id: str
    ticket_no: str
    address_key: str | None
    meter_no: str | None
    area_code: str | None
    progress: str  # work order status, or "recorded" before dispatch has routed it
    expected_restore_at: datetime | None = None
    incident_id: str | None = None
    arrive_by: datetime | None = None  # the crew's arrival deadline
    outage_status: str | None = None  # of the incident holding the repair, if any
    area_name: str | None = None


@dataclass(frozen=True)
class ActiveOutage:
    incident_id: str
    area_codes: tuple[str, ...]
    expected_restore_at: datetime | None
    cause: str | None
    # The caller's meter is under the incident's faulty equipment (transformer, feeder).
    covers_meter: bool = False
    area_names: tuple[str, ...] = ()
    status: str | None = None


@dataclass(frozen=True)
class Link:
    kind: Literal["repair", "outage"]
    ticket_id: str | None
    ticket_no: str | None
    incident_id: str | None
    progress: str
    expected_restore_at: datetime | None
    cause: str | None = None
    area_name: str | None = None
    arrive_by: datetime | None = None


def find_link(
    *,
    address: str | None,
    meter_no: str | None,
    area_code: str | None,
    open_repairs: list[OpenRepair],
    active_outages: list[ActiveOutage],
) -> Link | None:
    """The open repair (same meter or same address) or active outage (its faulty equipment
    feeds the caller's meter) this repair report is already part of; None when it is a new
    fault. An outage never covers a whole area: a caller whose meter is not known to be under
    it gets a repair of their own (a crew), not a consultation."""
    key = address_key(address)
    for repair in open_repairs:
        if (meter_no and repair.meter_no == meter_no) or (key and repair.address_key == key):
            # A repair folded into an outage is as far along as the incident's lead crew is.
            progress = repair.progress
            if repair.outage_status and progress in ("recorded", "created"):
                progress = OUTAGE_PROGRESS.get(repair.outage_status, progress)
            return Link(
                "repair",
                repair.ticket_id,
                repair.ticket_no,
                repair.incident_id,
                progress,
                repair.expected_restore_at,
                area_name=repair.area_name,
                arrive_by=repair.arrive_by if progress == repair.progress else None,
            )
    for outage in active_outages:
        if meter_no and outage.covers_meter:
            return Link(
                "outage",
                None,
                None,
                outage.incident_id,
                OUTAGE_PROGRESS.get(outage.status or "", "outage_declared"),
                outage.expected_restore_at,
                outage.cause,
                outage.area_names[0] if outage.area_names else None,
            )
    return None


# The incident's state as the caller is told it.
OUTAGE_PROGRESS = {
    "suspected": "outage_suspected",
    "confirmed": "outage_declared",
    "crew_on_site": "on_site",
}
