"""console's tables: web sessions (the identity provider's tokens, kept server-side), pending
sign-ins, and the supervisors' chase log. The console owns no business data; tickets, orders and
deadlines stay with their services."""

import sqlalchemy as sa

metadata = sa.MetaData()
TZ = sa.DateTime(timezone=True)

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    # sha256 of the cookie's value: a stolen database row does not open a session.
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String(255), nullable=False, index=True),
    sa.Column("access_token", sa.Text, nullable=False),
    sa.Column("refresh_token", sa.Text, nullable=True),
    sa.Column("id_token", sa.Text, nullable=True),
    sa.Column("access_expires_at", TZ, nullable=False),
    sa.Column("refresh_expires_at", TZ, nullable=True),
    sa.Column("created_at", TZ, nullable=False),
)

oidc_logins = sa.Table(
    "oidc_logins",
    metadata,
    sa.Column("state", sa.String(64), primary_key=True),
    sa.Column("code_verifier", sa.String(128), nullable=False),
    sa.Column("nonce", sa.String(64), nullable=False),
    sa.Column("next_path", sa.String(500), nullable=False),
    sa.Column("created_at", TZ, nullable=False),
)

chases = sa.Table(
    "chases",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("deadline_id", sa.String(64), nullable=False, index=True),
    sa.Column("ticket_id", sa.String(64), nullable=True),
    sa.Column("limit_key", sa.String(100), nullable=True),
    sa.Column("supervisor", sa.String(64), nullable=False),
    sa.Column("note", sa.String(500), nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

# The floor (seats, their states and the calls offered or talking) lives here, not in one
# process's memory: every console replica reads and changes the same rows under one advisory
# lock, so a reload, a restart or a second replica shows the same floor.
floor_seats = sa.Table(
    "floor_seats",
    metadata,
    sa.Column("agent_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("staff_no", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("since", sa.DateTime(timezone=True), nullable=True),
    sa.Column("call_id", sa.String(64), nullable=True),
    sa.Column("answered_today", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reason", sa.String(32), nullable=True),
    sa.Column("answered_on", sa.Date, nullable=True),
)

floor_calls = sa.Table(
    "floor_calls",
    metadata,
    sa.Column("call_id", sa.String(64), primary_key=True),
    sa.Column("queue", sa.String(64), nullable=False),
    sa.Column("rang_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("caller_number", sa.String(32), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("offered_to", sa.String(64), nullable=True),
    sa.Column("agent_id", sa.String(64), nullable=True),
    sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
)

# When each agent's desk was last seen (an open event stream, a look at the desk), apart from
# the floor's rows: written by every replica without the floor's lock, read by the sweep that
# takes absent seats offline (Floor.leave_absent). One row per agent.
desk_presence = sa.Table(
    "desk_presence",
    metadata,
    sa.Column("agent_id", sa.String(64), primary_key=True),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
)

# What the agent has on screen for the call in hand (script position, typed fields, ticket
# recorded, situations, escalation): a reload mid-call restores it.
desk_drafts = sa.Table(
    "desk_drafts",
    metadata,
    sa.Column("agent_id", sa.String(64), primary_key=True),
    sa.Column("call_id", sa.String(64), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# After-call work: the wrap-up code the agent chose for each call.
wrap_ups = sa.Table(
    "wrap_ups",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("agent_id", sa.String(64), nullable=False, index=True),
    sa.Column("call_id", sa.String(64), nullable=True),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("ready", sa.Boolean, nullable=False),
    sa.Column("reason", sa.String(32), nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

# Escalations as the live view saw them on intake's topic, so the agent who asked is told what
# the supervisor did, even after a reload (intake's own queue is for supervisors only).
escalation_outcomes = sa.Table(
    "escalation_outcomes",
    metadata,
    sa.Column("escalation_id", sa.String(36), primary_key=True),
    sa.Column("agent_id", sa.String(64), nullable=True),
    sa.Column("call_id", sa.String(64), nullable=True),
    sa.Column("outcome", sa.String(32), nullable=True),
    sa.Column("supervisor_id", sa.String(64), nullable=True),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    # Why the supervisor resolved it so (a decline always says): the agent is told.
    sa.Column("reason", sa.Text, nullable=True),
)
