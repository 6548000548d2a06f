"""Dispatch's tables."""

import sqlalchemy as sa

from brightline.dispatch.domain.model import ACTIVE_FOR_CREW, OPEN_STATUSES

metadata = sa.MetaData()

TZ = sa.DateTime(timezone=True)

work_orders = sa.Table(
    "work_orders",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("ticket_id", sa.String(36), nullable=False, index=True),
    sa.Column("unit_id", sa.String(64), nullable=False, index=True),
    sa.Column("area_class", sa.String(16), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("created_at", TZ, nullable=False),
    sa.Column("crew_id", sa.String(64), index=True),
    sa.Column("incident_id", sa.String(36), index=True),
    sa.Column("is_lead", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("latitude", sa.Float),
    sa.Column("longitude", sa.Float),
    sa.Column("meter_no", sa.String(64)),
    sa.Column("accept_by", TZ),
    sa.Column("updated_at", TZ),
    sa.Column("cause", sa.Text),
    sa.Column("notes", sa.Text),
    sa.Column("resolution", sa.String(32)),
    sa.Column("returned_at", TZ),
    sa.Column("address", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("reported_at", TZ),  # the ticket's 受理 time: the arrival clock starts here
    sa.Column("reopened_from", sa.String(36)),
    sa.Column("needs_routing", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("cancel_reason", sa.Text),
    sa.Column("ticket_no", sa.String(32)),
    sa.Column("caller_name", sa.String(100)),
    sa.Column("phone", sa.String(32)),
    sa.Column("area_code", sa.String(32)),
    sa.Column("fault_scope", sa.String(16)),
    sa.Column("fault_started_at", TZ),
    sa.Column("arrive_by", TZ),  # the arrival limit from 受理 (handlers.arrival_due), for the crew
    sa.Column("reviewed_at", TZ),  # 审核: the return passed (null while it waits)
    sa.Column("reviewed_by", sa.String(200)),
    sa.Column("sent_back_reason", sa.Text),  # why the return was last sent back to the crew
    sa.Column("cancel_requested_at", TZ),  # 申请撤单: the crew's request waiting (0019)
    sa.Column("cancel_requested_by", sa.String(200)),
    sa.Column("cancel_refused_reason", sa.Text),  # why its last request was refused (0020)
)

# The orders each crew still works on, counted on every assignment (CrewRepository.states).
sa.Index(
    "ix_work_orders_crew_active",
    work_orders.c.crew_id,
    postgresql_where=work_orders.c.status.in_(ACTIVE_FOR_CREW),
)
# Lead orders waiting for a crew, looked for by the scanner every few seconds (migration 0012).
sa.Index(
    "ix_work_orders_unassigned_leads",
    work_orders.c.created_at,
    postgresql_where=sa.and_(work_orders.c.status == "created", work_orders.c.is_lead),
)

# The open orders, most urgent first: the dispatcher board and the owners of open clocks
# (migration 0017).
sa.Index(
    "ix_work_orders_open_by_arrival",
    work_orders.c.arrive_by,
    work_orders.c.created_at,
    postgresql_where=work_orders.c.status.in_(OPEN_STATUSES),
)

# The crews' requests to cancel waiting for the dispatcher's word, oldest first (migration 0019).
sa.Index(
    "ix_work_orders_cancel_requested",
    work_orders.c.cancel_requested_at,
    postgresql_where=work_orders.c.cancel_requested_at.is_not(None),
)
# The returns waiting for review, oldest first: the dispatcher's 回单审核 queue (migration 0018).
sa.Index(
    "ix_work_orders_awaiting_review",
    work_orders.c.returned_at,
    postgresql_where=sa.and_(
        work_orders.c.status == "returned", work_orders.c.reviewed_at.is_(None)
    ),
)

service_areas = sa.Table(
    "service_areas",
    metadata,
    sa.Column("area_code", sa.String(32), primary_key=True),
    sa.Column("unit_id", sa.String(64), nullable=False),
    sa.Column("area_class", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200)),
)

units = sa.Table(
    "units",
    metadata,
    sa.Column("unit_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
)

crews = sa.Table(
    "crews",
    metadata,
    sa.Column("crew_id", sa.String(64), primary_key=True),
    sa.Column("unit_id", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("on_duty", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("latitude", sa.Float),
    sa.Column("longitude", sa.Float),
    sa.Column("position_at", TZ),
    # The orders the crew works on (ACTIVE_FOR_CREW), kept by triggers on work_orders
    # (migration 0016): assignment reads it on every new repair.
    sa.Column("open_orders", sa.Integer, nullable=False, server_default="0"),
)

crew_members = sa.Table(
    "crew_members",
    metadata,
    sa.Column("member_id", sa.String(64), primary_key=True),
    sa.Column("crew_id", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
)

crew_shifts = sa.Table(
    "crew_shifts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("crew_id", sa.String(64), nullable=False, index=True),
    sa.Column("starts_at", TZ, nullable=False),
    sa.Column("ends_at", TZ, nullable=False),
)

work_order_history = sa.Table(
    "work_order_history",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("work_order_id", sa.String(36), nullable=False, index=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("previous_status", sa.String(32), nullable=False),
    sa.Column("crew_id", sa.String(64)),
    sa.Column("actor", sa.String(64)),
    sa.Column("reason", sa.Text),
    sa.Column("at", TZ, nullable=False),  # the device's time for crew actions
    sa.Column("recorded_at", TZ, nullable=False),
    sa.Column("latitude", sa.Float),
    sa.Column("longitude", sa.Float),
)

attachments = sa.Table(
    "attachments",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("work_order_id", sa.String(36), nullable=False, index=True),
    sa.Column("filename", sa.String(200), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("uploaded_at", TZ, nullable=False),
)

transformers = sa.Table(
    "transformers",
    metadata,
    sa.Column("transformer_id", sa.String(64), primary_key=True),
    sa.Column("feeder_id", sa.String(64), index=True),
)

meters = sa.Table(
    "meters",
    metadata,
    sa.Column("meter_no", sa.String(64), primary_key=True),
    sa.Column("transformer_id", sa.String(64), nullable=False, index=True),
)

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("unit_id", sa.String(64), nullable=False),
    # suspected | confirmed | crew_on_site | restored | cancelled
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("transformer_id", sa.String(64)),
    sa.Column("feeder_id", sa.String(64)),
    sa.Column("latitude", sa.Float),
    sa.Column("longitude", sa.Float),
    sa.Column("radius_m", sa.Float),
    sa.Column("declared_at", TZ, nullable=False),
    sa.Column("last_report_at", TZ, nullable=False),
    sa.Column("expected_restore_at", TZ),
    sa.Column("restored_at", TZ),
    sa.Column("cause", sa.Text),
    sa.Column("lead_work_order_id", sa.String(36)),
    sa.Column("area_code", sa.String(32)),
    sa.Column("confirmed_at", TZ),
    sa.Column("crew_on_site_at", TZ),
    sa.Column("cancelled_at", TZ),
    sa.Column("cancel_reason", sa.Text),
    sa.Column("restored_by", sa.String(16)),  # lead_crew | grid | supervisor
    sa.Column("closed_by", sa.String(64)),
)

# Tickets intake linked to an incident or to a repair (repeat-call consultations): dispatch
# never created an order for them, but they close, and are called back, with that work.
incident_links = sa.Table(
    "incident_links",
    metadata,
    sa.Column("ticket_id", sa.String(36), primary_key=True),
    sa.Column("incident_id", sa.String(36), index=True),
    sa.Column("work_order_id", sa.String(36), index=True),
    sa.Column("linked_ticket_id", sa.String(36)),
    sa.Column("unit_id", sa.String(64)),
    sa.Column("linked_at", TZ, nullable=False),
    sa.Column("released_at", TZ),
    sa.Column("area_code", sa.String(32)),
    sa.Column("address", sa.Text),
    sa.Column("meter_no", sa.String(64)),
    sa.Column("latitude", sa.Float),
    sa.Column("longitude", sa.Float),
    sa.Column("caller_name", sa.String(100)),
    sa.Column("phone", sa.String(32)),
    sa.Column("ticket_no", sa.String(32)),
    sa.Column("description", sa.Text),
)
# Links waiting for the order of the ticket they point at (asked on every new order).
sa.Index(
    "ix_incident_links_waiting",
    incident_links.c.linked_ticket_id,
    postgresql_where=sa.and_(
        incident_links.c.work_order_id.is_(None), incident_links.c.released_at.is_(None)
    ),
)
