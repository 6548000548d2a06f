"""NUL (U+0000) in any field is refused with 422 problem+json by the platform (RequestGuard), for
every service: PostgreSQL text cannot hold it, and the fuzzer found services answering 500."""

from datetime import UTC, datetime, timedelta

import pytest

from brightline.platform.auth import Role
from brightline.platform.testing import bearer, running, service_app

pytestmark = pytest.mark.integration

AGENT = bearer(Role.AGENT, subject="agent-7", staff_no="1007", name="王五")


def repair(n: int) -> dict:
    return {
        "ticket_type": "repair",
        "description": f"停电{n}",
        "caller_name": "李四",
        "phone": f"1391234{n:04d}",
        "address": f"幸福小区{n}栋",
        "fault_scope": "own_home",
        "fault_started_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
    }


async def test_nul_characters_are_refused_as_problems_before_reaching_the_database(
    infra_env, db_name
):
    """PostgreSQL text cannot hold U+0000; the fuzzer found every service answering 500 to it."""
    app = service_app("intake", **infra_env, database_name=db_name("intake"))
    async with running(app) as client:
        body = repair(9) | {"address": "幸福小区\u0000栋"}
        refused = await client.post("/tickets", json=body, headers=AGENT)
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert (
            await client.get("/tickets", params={"phone": "1\x00"}, headers=AGENT)
        ).status_code == 422
        literal = repair(9) | {"description": "文字 \\u0000 不是 NUL"}
        assert (await client.post("/tickets", json=literal, headers=AGENT)).status_code == 201
