"""The repair organisation every scenario runs against, loaded as an integration would.

Without it every repair is unrouted: dispatch parks it for the duty dispatcher, never assigns a
crew and never folds a storm's reports into incidents, so the bench would measure a path a real
centre only takes for a call whose area nobody mapped. Here: UNITS repair units, AREAS area codes
spread over them, CREWS_PER_UNIT crews per unit on duty with a position. The load generator gives
ticket i the area `area_code(run, i)`; a storm meter's transformer lies in that same area.
"""

from __future__ import annotations

import httpx
from common import http_ok
from stack import Stack

from brightline.platform.auth import Role
from brightline.platform.testing import bearer

UNITS = 4
AREAS = 20
CREWS_PER_UNIT = 6
CENTRE = (31.2304, 121.4737)


def area_code(i: int) -> str:
    return f"BENCH-{i % AREAS:02d}"


def unit_of(area: int) -> str:
    return f"bench-unit-{area % UNITS}"


async def seed(stack: Stack) -> None:
    gis = bearer(Role.INTEGRATION, subject="gis-bench")
    supervisor = bearer(Role.SUPERVISOR, subject="sup-bench")
    dispatch = stack.url("dispatch")
    async with httpx.AsyncClient(timeout=60) as client:
        for u in range(UNITS):
            await http_ok(
                client, "PUT", f"{dispatch}/units/bench-unit-{u}", headers=gis,
                json={"name": f"抢修{u}班"},
            )  # fmt: skip
        await http_ok(
            client,
            "PUT",
            f"{dispatch}/service-areas",
            headers=gis,
            json={
                "areas": [
                    {
                        "area_code": area_code(a),
                        "unit_id": unit_of(a),
                        "area_class": "urban" if a % 4 else "rural",
                        "name": f"测试片区{a}",
                    }
                    for a in range(AREAS)
                ]
            },
        )
        for u in range(UNITS):
            for c in range(CREWS_PER_UNIT):
                crew = f"bench-unit-{u}-crew-{c}"
                await http_ok(
                    client, "PUT", f"{dispatch}/crews/{crew}", headers=gis,
                    json={"unit_id": f"bench-unit-{u}", "name": f"抢修{u}-{c}队"},
                )  # fmt: skip
                await http_ok(
                    client, "PUT", f"{dispatch}/crews/{crew}/position", headers=gis,
                    json={"latitude": CENTRE[0] + 0.01 * c, "longitude": CENTRE[1] + 0.01 * u},
                )  # fmt: skip
                await http_ok(
                    client, "PUT", f"{dispatch}/crews/{crew}/duty", headers=supervisor,
                    json={"on_duty": True},
                )  # fmt: skip
