"""The read model: tickets (search), timeline, incident links, the confidential-read audit.

Substring search on names and addresses (Chinese: no word boundaries) goes through an array of
the text's characters and character pairs with a built-in GIN index: every PostgreSQL has it
(the embedded one of tests and benchmarks ships no pg_trgm), and it serves one- and
two-character queries too, which trigrams cannot. Where pg_trgm is installed, GIN trigram
indexes on the same normalised text are created as well (the issue asks for them; the planner
uses whichever is cheaper).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Lower case, no white space: brightline.records.domain.model.normalise_text in SQL.
NORM = """
CREATE FUNCTION records_norm(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT
AS $$ SELECT lower(regexp_replace(value, '\\s+', '', 'g')) $$
"""

# Every character and every pair of adjacent characters of the normalised text; a substring of
# two or more characters has all its pairs among them (domain.model.query_grams).
GRAMS = """
CREATE FUNCTION records_grams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT coalesce(array_agg(DISTINCT g), '{}')
  FROM (SELECT records_norm(value) AS s) n,
       LATERAL (
         SELECT substr(n.s, i, 1) AS g FROM generate_series(1, length(n.s)) i
         UNION ALL
         SELECT substr(n.s, i, 2) FROM generate_series(1, length(n.s) - 1) i
       ) grams
  WHERE n.s IS NOT NULL AND n.s <> ''
$$
"""


def upgrade() -> None:
    op.execute(NORM)
    op.execute(GRAMS)
    op.create_table(
        "tickets",
        sa.Column("ticket_id", sa.Text, primary_key=True),
        sa.Column("ticket_no", sa.Text),
        sa.Column("ticket_type", sa.Text),
        sa.Column("recorded_at", sa.DateTime(timezone=True)),
        sa.Column("first_ask_owner", sa.Text),
        sa.Column("call_id", sa.Text),
        sa.Column("customer_id", sa.Text),
        sa.Column("caller_name", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("phone_norm", sa.Text),
        sa.Column("address", sa.Text),
        sa.Column("area_code", sa.Text),
        sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reported_party", sa.Text),
        sa.Column("reported_party_norm", sa.Text),
        sa.Column("linked_ticket_id", sa.Text),
        sa.Column("name_grams", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("address_grams", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("status", sa.Text),
        sa.Column("status_at", sa.DateTime(timezone=True)),
        sa.Column("status_event", sa.Text),
        sa.Column("owner", sa.Text),
        sa.Column("owner_at", sa.DateTime(timezone=True)),
        sa.Column("owner_event", sa.Text),
        sa.Column("unit_id", sa.Text),
        sa.Column("unit_at", sa.DateTime(timezone=True)),
        sa.Column("unit_event", sa.Text),
        sa.Column("department_id", sa.Text),
        sa.Column("department_at", sa.DateTime(timezone=True)),
        sa.Column("department_event", sa.Text),
        sa.Column("has_breached", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    # 工单号 exact; phone exact (normalised); the newest-first keyset of every search.
    op.create_index("tickets_no", "tickets", ["ticket_no"], unique=True)
    op.create_index("tickets_phone", "tickets", ["phone_norm", "recorded_at"])
    op.create_index("tickets_recorded", "tickets", ["recorded_at", "ticket_id"])
    op.create_index("tickets_type_recorded", "tickets", ["ticket_type", "recorded_at"])
    op.create_index("tickets_status_recorded", "tickets", ["status", "recorded_at"])
    op.create_index("tickets_unit_recorded", "tickets", ["unit_id", "recorded_at"])
    op.create_index("tickets_owner_recorded", "tickets", ["owner", "recorded_at"])
    op.create_index(
        "tickets_breached",
        "tickets",
        ["recorded_at"],
        postgresql_where=sa.text("has_breached"),
    )
    op.create_index("tickets_name_grams", "tickets", ["name_grams"], postgresql_using="gin")
    op.create_index("tickets_address_grams", "tickets", ["address_grams"], postgresql_using="gin")
    op.execute(
        """
        DO $$
        BEGIN
          IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
            CREATE INDEX tickets_name_trgm ON tickets
              USING gin (records_norm(caller_name) gin_trgm_ops);
            CREATE INDEX tickets_address_trgm ON tickets
              USING gin (records_norm(address) gin_trgm_ops);
          END IF;
        END $$
        """
    )
    op.create_table(
        "timeline",
        sa.Column("entry_id", sa.Text, primary_key=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("aggregate_id", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("ticket_id", sa.Text),
        sa.Column("call_id", sa.Text),
        sa.Column("incident_id", sa.Text),
        sa.Column("data", JSONB, nullable=False),
    )
    op.create_index("timeline_ticket", "timeline", ["ticket_id", "occurred_at"])
    op.create_index("timeline_call", "timeline", ["call_id"])
    op.create_index("timeline_incident", "timeline", ["incident_id"])
    op.create_index("timeline_aggregate", "timeline", ["aggregate_id"])
    op.create_table(
        "ticket_incidents",
        sa.Column("ticket_id", sa.Text, primary_key=True),
        sa.Column("incident_id", sa.Text, primary_key=True),
    )
    op.create_table(
        "confidential_reads",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("ticket_id", sa.Text, nullable=False),
        sa.Column("reader", sa.Text, nullable=False),
        sa.Column("roles", ARRAY(sa.Text), nullable=False),
        sa.Column("department_id", sa.Text),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("confidential_reads_ticket", "confidential_reads", ["ticket_id", "at"])


def downgrade() -> None:
    op.drop_table("confidential_reads")
    op.drop_table("ticket_incidents")
    op.drop_table("timeline")
    op.drop_table("tickets")
    op.execute("DROP FUNCTION records_grams(text)")
    op.execute("DROP FUNCTION records_norm(text)")
