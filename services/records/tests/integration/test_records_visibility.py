"""The confidentiality rules as SQL (so pages stay full and keysets exact) decide exactly as the
shared rules do in Python: every case type x department x named party x viewer, on PostgreSQL."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from brightline.confidentiality import Viewer, load_confidentiality
from brightline.platform.db import (
    create_engine,
    database_url,
    ensure_database,
    server_url,
    session_factory,
)
from brightline.platform.migrations import upgrade_async
from brightline.records.adapters.repository import (
    CASE_TYPES,
    SearchQuery,
    TicketRepository,
)
from brightline.records.api.routes import ticket_read
from brightline.records.domain.model import NO_DEPARTMENT
from brightline.records.main import SERVICE_DIR

pytestmark = pytest.mark.integration

VIEWERS = [
    Viewer("agent-1", frozenset({"agent"})),
    Viewer("agent-2", frozenset({"agent"}), name="李四"),
    Viewer("sup-1", frozenset({"supervisor"})),
    Viewer("sup-2", frozenset({"supervisor"}), staff_no="S-0042"),
    Viewer("cw-1", frozenset({"caseworker"}), department_id="dept-a"),
    Viewer("cw-2", frozenset({"caseworker"}), department_id="dept-b"),
    Viewer("cw-3", frozenset({"caseworker"})),
    Viewer("sys-1", frozenset({"integration"})),
]


@pytest.fixture
async def sessions(postgres_server, db_name):
    server = server_url(postgres_server)
    name = db_name("records")
    await ensure_database(server, name)
    url = database_url(server, name)
    await upgrade_async(SERVICE_DIR, url)
    engine = create_engine(url, pool_size=4)
    yield session_factory(engine)
    await engine.dispose()


async def test_sql_visibility_equals_the_rules(sessions):
    rules = load_confidentiality()
    t0 = datetime.now(UTC) - timedelta(days=1)
    rows = []
    combos = itertools.product(
        [*CASE_TYPES, "repair", "consultation"],
        [None, NO_DEPARTMENT, "dept-a", "dept-b"],
        [None, "李 四", "s-0042"],
        ["agent-1", "agent-9"],
        [False, True],
    )
    # Every ticket is the same caller's, so a search by their phone, name or address tells a
    # viewer which tickets are theirs.
    for n, (ticket_type, department, party, owner, anonymous) in enumerate(combos):
        rows.append(
            {
                "ticket_id": f"v-{n}-{uuid.uuid4().hex[:6]}",
                "ticket_no": f"V{n:06d}{uuid.uuid4().hex[:4]}",
                "ticket_type": ticket_type,
                "recorded_at": t0 + timedelta(seconds=n),
                "first_ask_owner": owner,
                "department_id": department,
                "reported_party": party,
                "reported_party_norm": "".join(party.split()).casefold() if party else None,
                "anonymous": anonymous,
                "caller_name": "周建国",
                "phone": "13800138000",
                "phone_norm": "13800138000",
                "address": "西湖区文三路100号",
            }
        )
    async with sessions() as session, session.begin():
        await session.execute(
            sa.text(
                "INSERT INTO tickets (ticket_id, ticket_no, ticket_type, recorded_at, "
                "first_ask_owner, department_id, reported_party, reported_party_norm, anonymous, "
                "caller_name, phone, phone_norm, address, name_grams, address_grams) "
                "VALUES (:ticket_id, :ticket_no, :ticket_type, :recorded_at, :first_ask_owner, "
                ":department_id, :reported_party, :reported_party_norm, :anonymous, "
                ":caller_name, :phone, :phone_norm, :address, "
                "records_grams(:caller_name), records_grams(:address))"
            ),
            rows,
        )
    found_by: dict[str, set[str]] = {}
    identified: dict[str, set[tuple[str | None, str | None]]] = {}
    for viewer in VIEWERS:
        async with sessions() as session, session.begin():
            repo = TicketRepository(session, ZoneInfo("Asia/Shanghai"))
            everything = {r["ticket_id"]: r for r in rows}
            views = [await repo.get(tid) for tid in everything]
            expected = {
                v.ticket_id
                for v in views
                if v.ticket_type not in CASE_TYPES or rules.may_find(v, viewer)
            }
            found, _ = await repo.search(SearchQuery(), rules=rules, viewer=viewer, limit=1000)
            assert {f.ticket_id for f in found} == expected, viewer
            found_by[viewer.subject] = {f.ticket_type for f in found}
            # By the caller's phone, name or address: only the tickets that show this viewer
            # who called (ticket_read's own decision), never one that withholds the caller.
            shown = {
                v.ticket_id
                for v in views
                if v.ticket_id in expected and not ticket_read(v, rules, viewer).identity_hidden
            }
            for query in (
                SearchQuery(phone="13800138000"),
                SearchQuery(name="建国"),
                SearchQuery(address="文三路"),
            ):
                by_caller, _ = await repo.search(query, rules=rules, viewer=viewer, limit=1000)
                assert {f.ticket_id for f in by_caller} == shown, (viewer, query)
            identified[viewer.subject] = {
                (v.ticket_type, v.first_ask_owner) for v in views if v.ticket_id in shown
            }
    # The rules really discriminate: reports are found by supervisors and the handling
    # department's caseworkers, never by agents or other departments.
    assert "report" not in found_by["agent-1"] and "report" in found_by["sup-1"]
    assert "report" in found_by["cw-1"] and found_by["cw-3"] <= {"repair", "consultation"}
    # A complaint is found by every agent, but its caller is searched for by its first-ask owner
    # only; a report's by nobody in records.
    assert "complaint" in found_by["agent-1"]
    assert ("complaint", "agent-1") in identified["agent-1"]
    assert ("complaint", "agent-9") not in identified["agent-1"]
    assert not any(t == "report" for t, _ in identified["sup-1"])
    # A case returned to the centre (NO_DEPARTMENT) is no caseworker's.
    returned = {r["ticket_id"] for r in rows if r["department_id"] == NO_DEPARTMENT}
    for viewer in ("cw-1", "cw-2", "cw-3"):
        async with sessions() as session, session.begin():
            repo = TicketRepository(session, ZoneInfo("Asia/Shanghai"))
            found, _ = await repo.search(
                SearchQuery(),
                rules=rules,
                viewer=next(v for v in VIEWERS if v.subject == viewer),
                limit=1000,
            )
            assert not returned & {f.ticket_id for f in found if f.ticket_type in CASE_TYPES}
