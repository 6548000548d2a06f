"""Policy packs: shipped values, inheritance, effective dates, validation."""

from datetime import UTC, date, datetime, timedelta

import pytest

from brightline.calendar import business_tz
from brightline.sla_monitor.domain.policy import (
    EscalationLevel,
    Limit,
    NoPolicyInForce,
    PolicyBook,
    PolicyError,
    Unit,
    load_pack,
    load_packs,
    pack_names,
    parse_pack,
)

SH = business_tz()


def test_shipped_packs():
    assert pack_names() == ["jiangsu-2021", "seed", "sgcc-2011"]
    packs = load_packs()
    assert {p.ref for p in packs.values()} == {"seed@1", "sgcc-2011@1", "jiangsu-2021@1"}


@pytest.mark.parametrize(
    "key, amount, unit",
    [
        ("call.answer", 12, Unit.SECONDS),
        ("repair.arrival.urban", 45, Unit.MINUTES),
        ("repair.arrival.rural", 90, Unit.MINUTES),
        ("repair.arrival.remote", 120, Unit.MINUTES),
        ("complaint.reply", 5, Unit.CALENDAR_DAYS),
        ("report.reply", 10, Unit.CALENDAR_DAYS),
        ("case.transfer", 1, Unit.WORKING_DAYS),
        ("first_ask.answer", 2, Unit.WORKING_DAYS),
        ("callback.window", 24, Unit.HOURS),
        ("bill_query.written_reply", 1, Unit.WORKING_DAYS),
        ("meter.fault", 2, Unit.WORKING_DAYS),
        ("supply.restore", 1, Unit.WORKING_DAYS),
        ("connection.residential", 5, Unit.WORKING_DAYS),
    ],
)
def test_seed_limits(key, amount, unit):
    limit = load_pack("seed").limit(key)
    assert (limit.amount, limit.unit) == (amount, unit)
    assert limit.source.startswith("004")
    assert limit.warn_at == 0.8


def test_seed_targets_and_parameters():
    seed = load_pack("seed")
    assert seed.target("callback.rate").minimum == 0.90
    assert seed.parameter("callback.max_attempts").value == 3
    assert seed.parameter("callback.attempt_spacing").as_timedelta() == timedelta(hours=2)
    assert seed.parameter("outage.planned.notice").as_timedelta() == timedelta(days=7)


def test_seed_escalation_and_pausability():
    seed = load_pack("seed")
    reply = seed.limit("complaint.reply")
    assert reply.pausable and not seed.limit("call.answer").pausable
    assert [(lvl.at, lvl.notify) for lvl in reply.escalation] == [
        ("warning", ("department",)),
        ("breach", ("supervisor",)),
        ("breach+1d", ("centre_manager",)),
    ]
    assert reply.escalation[2].delay == timedelta(days=1)


def test_sgcc_2011_overrides_and_inherits():
    sgcc = load_pack("sgcc-2011")
    assert sgcc.extends == "seed"
    assert (sgcc.limit("complaint.contact").amount, sgcc.limit("complaint.contact").unit) == (
        1,
        Unit.WORKING_DAYS,
    )
    assert (sgcc.limit("complaint.reply").amount, sgcc.limit("complaint.reply").unit) == (
        7,
        Unit.WORKING_DAYS,
    )
    assert sgcc.limit("repair.arrival.rural").amount == 90
    # not in the 2011 pack: falls back to seed
    assert sgcc.limit("report.reply") == load_pack("seed").limit("report.reply")
    assert sgcc.target("callback.rate").minimum == 0.90


def test_jiangsu_2021_overrides_and_inherits():
    js = load_pack("jiangsu-2021")
    assert (js.limit("complaint.contact").amount, js.limit("complaint.contact").unit) == (
        24,
        Unit.HOURS,
    )
    assert (js.limit("complaint.reply").amount, js.limit("complaint.reply").unit) == (
        4,
        Unit.WORKING_DAYS,
    )
    assert (js.limit("report.reply").amount, js.limit("report.reply").unit) == (
        9,
        Unit.WORKING_DAYS,
    )
    assert js.limit("repair.arrival.urban").amount == 45  # inherited


def test_seed_has_no_complaint_contact_limit():
    with pytest.raises(KeyError, match="complaint.contact"):
        load_pack("seed").limit("complaint.contact")


def test_policy_book_applies_a_new_pack_to_new_tickets_only():
    book = PolicyBook([load_pack("seed"), load_pack("jiangsu-2021")])
    assert book.in_force(datetime(2020, 12, 31, 23, 59, tzinfo=SH)).name == "seed"
    assert book.in_force(datetime(2021, 1, 1, 0, 0, tzinfo=SH)).name == "jiangsu-2021"
    # 2020-12-31 16:30 UTC is already 2021-01-01 in Shanghai
    assert book.in_force(datetime(2020, 12, 31, 16, 30, tzinfo=UTC)).name == "jiangsu-2021"
    assert book.limit_for("complaint.reply", date(2020, 6, 1)).amount == 5
    assert book.limit_for("complaint.reply", date(2025, 6, 1)).amount == 4


def test_policy_book_before_any_pack_and_ambiguous_dates():
    book = PolicyBook([load_pack("sgcc-2011")])
    with pytest.raises(NoPolicyInForce, match="2010-05-01"):
        book.in_force(date(2010, 5, 1))
    seed = load_pack("seed")
    with pytest.raises(PolicyError, match="ambiguous"):
        PolicyBook([seed, seed])
    with pytest.raises(PolicyError):
        PolicyBook([])


def _raw(**limit):
    entry = {"amount": 5, "unit": "calendar_days", "source": "test"}
    entry.update(limit)
    entry = {k: v for k, v in entry.items() if v is not None}
    return {"name": "t", "version": "1", "effective_from": "2025-01-01", "limits": {"x.y": entry}}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"unit": "fortnights"}, "unknown unit 'fortnights'"),
        ({"amount": None}, "missing required key 'amount'"),
        ({"source": None}, "missing required key 'source'"),
        ({"amount": 0}, "positive integer"),
        ({"warn_at": 1.0}, "warn_at"),
        ({"warn_at": 0}, "warn_at"),
        ({"warn_at": 1.5}, "warn_at"),
        ({"escalation": [{"at": "soon", "notify": ["supervisor"]}]}, "escalation"),
        ({"escalation": [{"at": "breach"}]}, "notify"),
        ({"colour": "red"}, "unknown field"),
    ],
)
def test_validation_errors_name_the_pack_and_the_limit(change, message):
    with pytest.raises(PolicyError, match=message) as info:
        parse_pack(_raw(**change))
    assert "'t'" in str(info.value) and "x.y" in str(info.value)


def test_pack_level_validation():
    with pytest.raises(PolicyError, match="effective_from"):
        parse_pack({k: v for k, v in _raw().items() if k != "effective_from"})
    with pytest.raises(PolicyError, match="not YYYY-MM-DD"):
        parse_pack({**_raw(), "effective_from": "soon"})
    with pytest.raises(PolicyError, match="no limits"):
        parse_pack({**_raw(), "limits": {}})
    with pytest.raises(PolicyError, match="extends"):
        parse_pack({**_raw(), "extends": "seed"})
    with pytest.raises(PolicyError, match="no policy pack named 'nope'"):
        load_pack("nope")


def test_a_child_entry_replaces_the_parent_entry_whole():
    seed = load_pack("seed")
    child = parse_pack(
        {
            **_raw(),
            "extends": "seed",
            "limits": {"complaint.reply": {"amount": 3, "unit": "working_days", "source": "t"}},
        },
        parent=seed,
    )
    reply = child.limit("complaint.reply")
    assert (reply.amount, reply.unit, reply.pausable, reply.escalation) == (
        3,
        Unit.WORKING_DAYS,
        False,
        (),
    )
    assert child.limit("call.answer") == seed.limit("call.answer")


def test_escalation_level_parsing():
    assert EscalationLevel("breach+30m", ("centre_manager",)).delay == timedelta(minutes=30)
    assert EscalationLevel("warning", ("department",)).trigger == "warning"
    with pytest.raises(PolicyError):
        EscalationLevel("warning+1h", ("department",))


def test_limit_constructed_in_code_validates_too():
    with pytest.raises(PolicyError, match="unknown unit"):
        Limit(key="k", amount=1, unit="weeks", source="s")
