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
# 服务申请 sub-types that carry a time limit of their own (seed 004 第十条(二)).
ServiceSubtype = Literal[
    "appointment",  # 预约服务: arrive within the agreed hour
    "bill_query_written",  # 书面查询电费: written reply within 1 working day
    "meter_fault",  # 电能表故障: handled within 2 working days
    "connection_residential",  # 居民新装: power within 5 working days of acceptance
    "connection_non_residential",  # 非居民新装: 5 working days after acceptance and contract
    "other",
]
SERVICE_SUBTYPES: tuple[str, ...] = get_args(ServiceSubtype)
# Facts staff record on a service-request ticket; each opens or meets a limit at the SLA monitor.
ServiceMilestone = Literal[
    "arrived",  # staff on site for an appointment
    "written_reply_sent",  # the written answer to a bill query went out
    "meter_fault_handled",  # the faulty meter is replaced or repaired
    "accepted_with_contract",  # non-residential: installation accepted and supply contract signed
    "power_connected",  # a new connection is energised
]
