"""Every state change is auditable by supervisors: each one writes a row of the service's
hash-chained audit trail in the change's own transaction, and GET /audit/events (on every
service, from brightline.messaging.audit) lists them, filtered and paged. Reads of confidential report
fields are audited by casework (GET /audit/confidential-reads, its own tests)."""

from datetime import UTC, datetime, timedelta

import pytest

from brightline.platform.auth import Role
from brightline.platform.testing import bearer, route_rules, running, service_app, service_names

pytestmark = pytest.mark.integration

AGENT = bearer(Role.AGENT, subject="agent-7", staff_no="1007", name="王五")
SUPERVISOR = bearer(Role.SUPERVISOR, subject="supervisor-1")
RECORDED = "brightline.intake.ticket.recorded.v2"


def repair(n: int) -> dict:
    return {
        "ticket_type": "repair",
        "description": f"审计测试停电{n}",
        "caller_name": "李四",
        "phone": f"1391234{n:04d}",
        "address": f"幸福小区{n}栋",
        "fault_scope": "own_home",
        "fault_started_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
    }


def test_every_service_serves_the_supervisor_only_audit_trail():
    for service in service_names():
        rules = {(m, p): roles for m, p, roles in route_rules(service_app(service))}
        assert rules.get(("GET", "/audit/events")) == {Role.SUPERVISOR}, service


async def test_a_recorded_ticket_is_in_the_audit_trail_for_supervisors_only(infra_env, db_name):
    app = service_app("intake", **infra_env, database_name=db_name("intake"))
    async with running(app) as client:
        before = datetime.now(UTC) - timedelta(seconds=1)
        ids = []
        for n in range(3):
            created = await client.post(
                "/tickets", json=repair(n), headers={**AGENT, "Idempotency-Key": f"a-{n}"}
            )
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])

        found = await client.get("/audit/events", params={"ticket_id": ids[0]}, headers=SUPERVISOR)
        assert found.status_code == 200, found.text
        [row] = [r for r in found.json() if r["action"] == "POST /tickets"]
        assert row["kind"] == "request" and row["actor"] == "agent-7"
        assert row["subject"] == ids[0] and row["ticket_id"] == ids[0]
        assert [e["type"] for e in row["detail"]["events"]] == [RECORDED]
        [inserted] = [c for c in row["changes"] if c["table"] == "tickets"]
        assert inserted["op"] == "insert" and inserted["after"][0]["type"] == "repair"
        assert "13912340000" not in found.text  # personal data masked in the trail
        assert all(r["ticket_id"] == ids[0] for r in found.json())

        refused = await client.get("/audit/events", params={"ticket_id": ids[0]}, headers=AGENT)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert (await client.get("/audit/events")).status_code == 401

        # Filtered by type and time, paged with `after`: the three tickets in order, one per page.
        pages, after = [], None
        while True:
            params = {"event_type": RECORDED, "since": before.isoformat(), "limit": 1}
            if after is not None:
                params["after"] = after
            page = (await client.get("/audit/events", params=params, headers=SUPERVISOR)).json()
            if not page:
                break
            pages.append(page)
            after = page[-1]["seq"]
        assert [p[0]["subject"] for p in pages] == ids
        assert all(len(p) == 1 for p in pages)

        future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        assert (
            await client.get("/audit/events", params={"since": future}, headers=SUPERVISOR)
        ).json() == []
        assert (
            await client.get("/audit/events", params={"subject": ids[1]}, headers=SUPERVISOR)
        ).json()[0]["subject"] == ids[1]

        naive = await client.get(
            "/audit/events", params={"since": "2026-01-01T00:00:00"}, headers=SUPERVISOR
        )
        assert naive.status_code == 422
        assert naive.headers["content-type"] == "application/problem+json"
