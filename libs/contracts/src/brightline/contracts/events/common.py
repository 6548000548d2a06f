"""Value types shared by several services' payloads."""

from typing import Literal, get_args

TicketType = Literal[
    "repair",  # 故障报修
    "consultation",  # 业务咨询
    "service_request",  # 服务申请
    "complaint",  # 投诉
    "report",  # 举报
    "opinion",  # 意见
    "suggestion",  # 建议
    "praise",  # 表扬
]
TICKET_TYPES: tuple[str, ...] = get_args(TicketType)

ComplaintSubtype = Literal["service", "business", "outage", "supply_quality", "grid_construction"]
ComplaintGrade = Literal["special", "major", "important", "general"]
FaultScope = Literal["own_home", "building", "area"]
AreaClass = Literal["urban", "rural", "remote"]
