"""Dispatch's tables."""

import sqlalchemy as sa

metadata = sa.MetaData()

work_orders = sa.Table(
    "work_orders",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("ticket_id", sa.String(36), nullable=False, unique=True),
    sa.Column("unit_id", sa.String(64), nullable=False, index=True),
    sa.Column("area_class", sa.String(16), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

service_areas = sa.Table(
    "service_areas",
    metadata,
    sa.Column("area_code", sa.String(32), primary_key=True),
    sa.Column("unit_id", sa.String(64), nullable=False),
    sa.Column("area_class", sa.String(16), nullable=False),
)
