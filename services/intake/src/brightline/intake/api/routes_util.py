"""Turning domain objects into response bodies."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from brightline.intake.api.schemas import LinkRead, TicketRead, TicketSummary
from brightline.intake.domain.linking import Link
from brightline.intake.domain.model import Ticket

# What is true of the work now, as the caller is told it: never a crew "on the way" before one is.
PROGRESS_ZH = {
    "recorded": "已受理，正在为您安排抢修人员",
    "created": "已受理，正在为您安排抢修人员",
    "assigned": "已派发抢修班组，正在等待抢修人员接单",
    "accepted": "抢修人员已接单，正在准备出发",
    "en_route": "抢修人员正在赶往现场",
    "on_site": "抢修人员已到达现场抢修",
    "resolved": "抢修人员已处理完毕",
    "outage_suspected": "正在核实停电范围，并已安排抢修",
    "outage_declared": "已确认为供电设备故障停电，正在组织抢修",
}


# Before the crew is on site, the arrival deadline is the time the caller can expect it.
CREW_NOT_YET_THERE = ("created", "assigned", "accepted", "en_route")


def link_message(link: Link, now: datetime, tz: str = "Asia/Shanghai") -> str:
    """What the repeat caller is told. A time already past (a crew late, an outage running over)
    is no promise: it is left out, never read out as one."""
    progress = PROGRESS_ZH.get(link.progress, "正在处理")
    where = f"{link.area_name}的" if link.area_name else ""
    text = f"您反映的{where}停电已在处理中（{progress}）"
    zone = ZoneInfo(tz)
    if link.arrive_by is not None and link.arrive_by > now and link.progress in CREW_NOT_YET_THERE:
        text += f"，抢修人员预计{link.arrive_by.astimezone(zone):%H:%M}前到达现场"
    if link.expected_restore_at is not None and link.expected_restore_at > now:
        text += f"，预计{link.expected_restore_at.astimezone(zone):%m月%d日%H:%M}恢复供电"
    else:
        text += "，恢复时间确定后我们会尽快告知"
    return text + "，给您带来不便，敬请谅解！"


def to_read(ticket: Ticket, link: Link | None = None) -> TicketRead:
    return TicketRead(
        id=ticket.id,
        no=ticket.no,
        ticket_type=ticket.type,
        status=ticket.status,
        recorded_at=ticket.recorded_at,
        first_ask_owner=ticket.first_ask_owner,
        owner=ticket.owner,
        description=ticket.description,
        details=ticket.details,
        completed_at=ticket.completed_at,
        reply_promise=ticket.details.get("reply_promise"),
        linked=None
        if link is None
        else LinkRead(
            kind=link.kind,
            ticket_id=link.ticket_id,
            ticket_no=link.ticket_no,
            incident_id=link.incident_id,
            progress=link.progress,
            expected_restore_at=link.expected_restore_at,
            cause=link.cause,
            message=link_message(link, ticket.recorded_at),
        ),
    )


def summary(ticket: Ticket) -> TicketSummary:
    return TicketSummary(
        id=ticket.id,
        no=ticket.no,
        ticket_type=ticket.type,
        status=ticket.status,
        recorded_at=ticket.recorded_at,
        owner=ticket.owner,
        description=ticket.description,
    )
