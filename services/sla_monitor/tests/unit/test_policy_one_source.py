"""One source of truth: every service reads the pack in force through brightline.calendar.policy;
a pack whose reply could fall due before the transfer is refused at load; packs say their sources
and whether their effective date is known."""

from datetime import datetime, timedelta

import pytest

from brightline.calendar import business_tz
from brightline.calendar.policy import (
    PolicyError,
    adopted_book,
    limit_due,
    load_pack,
    parse_pack,
    transfer_key,
)

SH = business_tz()
CENTRE = """
name: centre
version: "2"
extends: seed
effective_from: 2026-12-01
parameters:
  callback.max_attempts: {value: 5, source: "centre rule"}
limits:
  callback.window: {amount: 12, unit: hours, source: "centre rule"}
  complaint.transfer: {amount: 30, unit: minutes, source: "centre rule"}
"""


def test_complaints_and_reports_go_on_in_hours_other_cases_in_working_days():
    seed = load_pack("seed")
    assert transfer_key(seed, "complaint") == "complaint.transfer"
    assert transfer_key(seed, "report") == "report.transfer"
    assert transfer_key(seed, "opinion") == "case.transfer"
    assert seed.limit("complaint.transfer").fixed_span() == timedelta(hours=1)


def test_a_pack_whose_reply_falls_due_before_the_transfer_is_refused_at_load():
    raw = {
        "name": "bad",
        "version": "1",
        "effective_from": "2026-01-01",
        "extends": "seed",
        "limits": {
            "report.transfer": {"amount": 2, "unit": "working_days", "source": "x"},
            "report.reply": {"amount": 1, "unit": "working_days", "source": "x"},
        },
    }
    with pytest.raises(
        PolicyError, match=r"report\.reply .* could fall due before report\.transfer"
    ):
        parse_pack(raw, load_pack("seed"))


def test_adopting_a_pack_file_switches_the_values_for_what_opens_from_its_date(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("BRIGHTLINE_POLICY_PACKS", raising=False)
    monkeypatch.delenv("BRIGHTLINE_POLICY_PACK_FILES", raising=False)
    before, after = datetime(2026, 11, 30, 10, tzinfo=SH), datetime(2026, 12, 1, 10, tzinfo=SH)
    assert adopted_book().in_force(after).limit("callback.window").amount == 24
    pack = tmp_path / "centre.yaml"
    pack.write_text(CENTRE, encoding="utf-8")
    monkeypatch.setenv("BRIGHTLINE_POLICY_PACK_FILES", str(pack))
    book = adopted_book()
    assert book.in_force(before).ref == "seed@1"  # tickets opened before keep their promise
    centre = book.in_force(after)
    assert centre.ref == "centre@2"
    assert centre.limit("callback.window").fixed_span() == timedelta(hours=12)
    assert centre.parameter("callback.max_attempts").value == 5
    assert limit_due(centre.limit(transfer_key(centre, "complaint")), after) == (
        after + timedelta(minutes=30),
        False,
    )


@pytest.mark.parametrize("name", ["sgcc-2011", "jiangsu-2021", "seed"])
def test_every_shipped_pack_states_its_sources_and_whether_its_date_is_known(name):
    pack = load_pack(name)
    assert pack.sources, f"{name} names no source"
    assert pack.effective_from_known is False  # said plainly: no dated issuing document in seeds
