"""A report date outside the business range is refused with 422 problem+json naming the field,
never a 500 from the database (9999-12-31 has no next day to end its window on)."""

import pytest

from brightline.platform.auth import Role
from brightline.platform.testing import bearer, running, service_app

pytestmark = pytest.mark.integration


async def test_impossible_report_dates_are_refused_naming_the_field(infra_env, db_name):
    app = service_app("sla_monitor", **infra_env, database_name=db_name("sla"))
    async with running(app) as http:
        supervisor = bearer(Role.SUPERVISOR, subject="super-1")
        for params, field in (
            ({"date_to": "9999-12-31"}, "date_to"),
            ({"date_from": "0001-01-01"}, "date_from"),
        ):
            refused = await http.get("/kpis", params=params, headers=supervisor)
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert field in refused.text
        fine = await http.get("/kpis", params={"date_to": "2026-12-01"}, headers=supervisor)
        assert fine.status_code == 200, fine.text
