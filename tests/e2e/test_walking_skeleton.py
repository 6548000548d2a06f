"""The walking skeleton, with every service as its own process against the real broker and
database: a repair ticket posted to intake becomes a work order in dispatch, and the SLA
monitor opens its arrival deadline."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from brightline.platform.auth import Role
from brightline.platform.local.paths import free_port
from brightline.platform.local.progress import wait_ready_by_progress
from brightline.platform.testing import ServiceProcess, bearer, eventually

pytestmark = pytest.mark.e2e


@pytest.fixture
def services(kafka_bootstrap, postgres_server, topic_prefix, oidc_issuer, tmp_path, db_name):
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": postgres_server,
        "KAFKA_TOPIC_PREFIX": topic_prefix,
        "BRIGHTLINE_ENV": "development",
        "BRIGHTLINE_OIDC_ISSUER": oidc_issuer,
        "INTAKE_DATABASE_NAME": db_name("intake"),
        "DISPATCH_DATABASE_NAME": db_name("dispatch"),
        "SLA_DATABASE_NAME": db_name("sla"),
    }
    procs = {
        name: ServiceProcess(name, free_port(), env, tmp_path)
        for name in ("intake", "dispatch", "sla_monitor")
    }
    for proc in procs.values():
        proc.start()
    try:
        for proc in procs.values():
            wait_ready_by_progress(proc)  # a busy machine is slow, not stuck
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


async def test_repair_ticket_reaches_dispatch_and_sla_monitor(services):
    agent = bearer(Role.AGENT, subject="agent-42")
    async with httpx.AsyncClient(timeout=10) as http:
        created = await http.post(
            f"{services['intake'].url}/tickets",
            json={
                "ticket_type": "repair",
                "description": "整个小区停电",
                "caller_name": "李四",
                "phone": "13912345678",
                "address": "幸福小区3栋",
                "fault_scope": "area",
                "fault_started_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
            },
            headers={**agent, "Idempotency-Key": "e2e-1"},
        )
        assert created.status_code == 201, created.text
        ticket_id = created.json()["id"]

        async def work_orders():
            r = await http.get(
                f"{services['dispatch'].url}/work-orders",
                params={"ticket_id": ticket_id},
                headers=agent,
            )
            return r.json()

        [order] = await eventually(work_orders)
        assert order["area_class"] == "urban"

        async def deadlines():
            r = await http.get(
                f"{services['sla_monitor'].url}/deadlines",
                params={"ticket_id": ticket_id},
                headers=agent,
            )
            return r.json()

        [deadline] = await eventually(deadlines)
        assert deadline["limit_key"] == "repair.arrival.urban"
        assert deadline["subject_id"] == order["id"]
        assert deadline["policy"].startswith("seed@")
