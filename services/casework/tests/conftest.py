"""Fixtures for casework's integration tests: the service running over the real broker and
database, and helpers to publish other services' events and read what casework emitted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from brightline.casework.main import create_app
from brightline.casework.settings import CaseworkSettings
from brightline.contracts.events.intake import TicketRecordedV1
from brightline.messaging.kafka import prefixed
from brightline.messaging.testing import events_of, publish, read_topic
from brightline.platform.auth import Role
from brightline.platform.testing import bearer, eventually, running

AGENT = bearer(Role.AGENT, subject="agent-7", name="王五")
OTHER_AGENT = bearer(Role.AGENT, subject="agent-8")
SUPERVISOR = bearer(Role.SUPERVISOR, subject="sup-1", name="赵六")
CASEWORKER = bearer(Role.CASEWORKER, subject="cw-1", name="钱七", department_id="dept-marketing")
OTHER_CASEWORKER = bearer(Role.CASEWORKER, subject="cw-9", department_id="dept-grid")
# The staff member named in the report below: a caseworker of the very department handling it.
NAMED_STAFF = bearer(
    Role.CASEWORKER, subject="cw-2", name="李四", staff_no="S-0042", department_id="dept-marketing"
)
CREW = bearer(Role.CREW, subject="crew-1", crew_id="crew-A")
INTEGRATION = bearer(Role.INTEGRATION, subject="hr-system")


@pytest.fixture
async def casework(infra_env, db_name):
    app = create_app(CaseworkSettings(database_name=db_name("casework"), **infra_env))
    async with running(app) as client:
        for dept, name, types in (
            (
                "dept-marketing",
                "营销部",
                ["complaint", "report", "opinion", "suggestion", "praise"],
            ),
            ("dept-grid", "运检部", ["complaint", "report"]),
        ):
            response = await client.put(
                f"/departments/{dept}",
                json={"name": name, "case_types": types},
                headers=INTEGRATION,
            )
            assert response.status_code == 200, response.text
        yield client


@pytest.fixture
def bus(infra_env):
    """Publish events as other services would, and read casework's topic back."""

    class Bus:
        bootstrap = infra_env["kafka_bootstrap_servers"]
        prefix = infra_env["kafka_topic_prefix"]

        async def publish(self, *payloads):
            return await publish(self.bootstrap, self.prefix, *payloads)

        async def case_events(self, case_id: str, *, at_least: int) -> list:
            async def check():
                records = await read_topic(
                    self.bootstrap, prefixed(self.prefix, "casework.cases"), expect=10**9, timeout=3
                )
                mine = [e for e in events_of(records) if e.subject == case_id]
                return mine if len(mine) >= at_least else None

            return await eventually(check, timeout=60)

    return Bus()


def ticket(ticket_type: str, **fields) -> TicketRecordedV1:
    defaults = {
        "ticket_id": f"tk-{uuid.uuid4().hex[:12]}",
        "ticket_no": f"95598-{uuid.uuid4().hex[:6]}",
        "ticket_type": ticket_type,
        "recorded_at": datetime.now(UTC),
        "first_ask_owner": "agent-7",
        "description": "客户反映问题",
        "caller_name": "张三",
        "phone": "13800138000",
        "address": "XX路1号",
    }
    return TicketRecordedV1(**{**defaults, **fields})


async def case_of(client, ticket_id: str, headers=SUPERVISOR) -> dict:
    """Wait until the ticket's case exists (it crosses Kafka), then return its full view."""

    async def check():
        found = (
            await client.get("/cases", params={"ticket_id": ticket_id}, headers=headers)
        ).json()
        return found[0] if found else None

    summary = await eventually(check, timeout=60)
    response = await client.get(f"/cases/{summary['id']}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def helpers():
    class Helpers:
        AGENT = AGENT
        OTHER_AGENT = OTHER_AGENT
        SUPERVISOR = SUPERVISOR
        CASEWORKER = CASEWORKER
        OTHER_CASEWORKER = OTHER_CASEWORKER
        NAMED_STAFF = NAMED_STAFF
        CREW = CREW
        INTEGRATION = INTEGRATION

    h = Helpers()
    h.ticket = ticket
    h.case_of = case_of
    h.eventually = eventually
    return h
