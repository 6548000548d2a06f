"""A planned outage announced less than 7 days ahead is a breach the KPIs count (issue 16 g)."""

from datetime import datetime, timedelta

from brightline.calendar import business_tz
from brightline.sla_monitor import kpis

SH = business_tz()
T = datetime(2026, 12, 1, 9, 0, tzinfo=SH)


def notice(unit: str, late: bool, registered=T) -> dict:
    return {"registered_at": registered, "unit_id": unit, "notice_late": late}


def compute(group_by: str, planned: list[dict]) -> list[kpis.KpiRow]:
    return kpis.compute(
        calls=[],
        deadlines=[],
        rates=[],
        group_by=group_by,
        tz=SH,
        answer_threshold_s=12.0,
        planned=planned,
    )


def test_late_notices_are_breaches_named_and_rated():
    planned = [notice("U1", True), notice("U1", False), notice("U2", False)]
    [row] = compute("all", planned)
    assert (row.planned_outage_notices, row.planned_outage_notice_breaches) == (3, 1)
    assert row.planned_outage_notice_on_time_rate == 2 / 3
    by_unit = {r.group: r for r in compute("unit", planned)}
    assert by_unit["U1"].planned_outage_notice_breaches == 1
    assert by_unit["U2"].planned_outage_notice_on_time_rate == 1.0


def test_grouped_by_the_business_day_of_registration():
    # Registered 09:00 + 22:30 = 07:30 on Wed 12-02, Beijing time (23:30 UTC on 12-01).
    registered = T + timedelta(hours=22, minutes=30)
    rows = {r.group: r for r in compute("day", [notice("U1", True, registered)])}
    assert list(rows) == ["2026-12-02"] and rows["2026-12-02"].planned_outage_notice_breaches == 1


def test_nothing_registered_has_no_figure():
    assert compute("all", []) == []
    [row] = kpis.rows_from_sums({"all": {"offered": 1}})
    assert row.planned_outage_notices == 0 and row.planned_outage_notice_on_time_rate is None
