"""The month-end projection of the callback rate, the centre's and each unit's: one rule, in the
SLA monitor, behind its gauge, its alert, GET /kpis and the wallboard alike."""

from datetime import date

from brightline.sla_monitor.kpis import callback_month, project_callback_rate

DECEMBER = date(2026, 12, 2)


def test_tickets_still_pending_count_as_the_decided_ones_went_not_as_failures():
    # 100 finished, 60 reached, 10 never reached, 30 still waiting for their callback: the
    # month-to-date ratio says 0.60; 60 of 70 decided were reached, so 30 pending add 30 * 6/7.
    assert project_callback_rate(100, 60, 10) == (60 + 30 * 60 / 70) / 100


def test_projection_with_nothing_decided_is_the_month_to_date_ratio_and_none_without_tickets():
    assert project_callback_rate(10, 0, 0) == 0.0
    assert project_callback_rate(0, 0, 0) is None


def rate(unit, day, finished, called_back, unreached=0):
    return dict(
        unit_id=unit,
        day=day,
        finished=finished,
        called_back=called_back,
        attempted_unreached=unreached,
    )


def test_an_evening_with_callbacks_pending_raises_no_alarm_a_unit_failing_them_does():
    rates = [
        rate("HZ", date(2026, 12, 1), 10, 9, 1),
        rate("HZ", DECEMBER, 10, 5),  # today's, half still to call back
        rate("NB", date(2026, 12, 1), 4, 2, 2),
        rate("NB", date(2026, 11, 30), 50, 0, 50),  # last month's: not this month's count
        rate("NB", date(2026, 12, 3), 50, 0, 50),  # after the day asked about
    ]
    month = callback_month(rates, month=DECEMBER, target=0.9)
    hz, nb = month.units
    assert (hz.unit_id, hz.finished, hz.called_back, hz.unreached, hz.pending) == (
        "HZ",
        20,
        14,
        1,
        5,
    )
    assert hz.month_to_date == 0.7 and hz.projection == (14 + 5 * 14 / 15) / 20 and not hz.alarm
    assert nb.projection == 0.5 and nb.alarm
    # The centre: 24 due, 16 reached, 3 never, 5 pending. Month to date says 0.67, below the
    # target; where the month is heading says 0.81: still an alarm, now for the right reason.
    assert (month.finished, month.called_back, month.unreached) == (24, 16, 3)
    assert month.month_to_date == 16 / 24
    assert month.projection == (16 + 5 * 16 / 19) / 24 and month.alarm
    assert callback_month(rates[:2], month=DECEMBER, target=0.9).alarm is False
