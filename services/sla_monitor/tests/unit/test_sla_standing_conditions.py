"""The gauge loop says a standing condition when it starts or changes, not on every 15-s refresh:
the calendar's horizon once a day (its days left change), the callback alarm once a month."""

from brightline.sla_monitor.main import StandingConditions


def test_a_standing_condition_is_said_when_it_starts_or_changes_only():
    said = StandingConditions()
    horizon = "the working-day calendar ends on 2026-12-31 (23 days)"
    assert [said.changed("calendar horizon", horizon) for _ in range(240)].count(True) == 1
    assert said.changed("calendar horizon", horizon.replace("23", "22"))
    assert said.changed("provisional deadlines", 0)  # said first, even when nothing is wrong
    assert not said.changed("provisional deadlines", 0)
    assert said.changed("callback rate alarm", ("2026-12", True))
    assert not said.changed("callback rate alarm", ("2026-12", True))
    assert said.changed("callback rate alarm", ("2027-01", True))
