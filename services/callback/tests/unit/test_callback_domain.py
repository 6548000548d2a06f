"""The callback task's rules, pure: attempts and spacing, outcomes, leases, rates."""

from datetime import UTC, date, datetime, timedelta

import pytest

from brightline.callback.adapters.rule_files import callback_script_rules
from brightline.callback.domain import events
from brightline.callback.domain.model import (
    CallbackPolicy,
    CallbackTask,
    NotLeaseHolder,
    ReasonRequired,
    TaskClosed,
    count,
)
from brightline.callback.domain.scripts import callback_script
from brightline.callback.settings import CallbackSettings

# The pure rules under explicit values (the seed pack's: 24 h window, 3 attempts 2 h apart).
POLICY = CallbackPolicy(
    window=timedelta(hours=24),
    max_attempts=3,
    attempt_spacing=timedelta(hours=2),
    lease=timedelta(minutes=10),
)
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DAY = date(2026, 3, 2)


def task(id="t1", *, ticket_type="repair", unit="unit-1", finished=T0) -> CallbackTask:
    t = CallbackTask.create(
        id=id,
        ticket_id=f"ticket-{id}",
        ticket_type=ticket_type,
        origin="dispatch",
        unit_id=unit,
        finished_at=finished,
        finished_day=DAY,
        policy=POLICY,
    )
    t.events.clear()
    return t


def call(t: CallbackTask, outcome: str, now: datetime, agent="a1", **kw) -> None:
    t.lease_to(agent, now, POLICY)
    t.record(outcome, agent_id=agent, now=now, policy=POLICY, **kw)


def test_window_and_attempts_come_from_the_seed_pack_in_force():
    policy = CallbackSettings(database_url=None).policy()
    assert policy.window == timedelta(hours=24)
    assert policy.max_attempts == 3
    assert policy.attempt_spacing == timedelta(hours=2)


def test_due_within_the_window_of_completion():
    assert task().due_at == T0 + timedelta(hours=24)


def test_unreachable_is_an_attempt_and_the_next_waits_the_spacing():
    t = task()
    call(t, "unreachable", T0)
    assert t.is_open and t.attempts == 1 and t.next_attempt_at == T0 + timedelta(hours=2)
    assert t.lease_holder is None


def test_unreachable_after_every_attempt_ends_the_task_unreachable():
    t = task()
    for i in range(3):
        call(t, "unreachable", T0 + timedelta(hours=2 * i))
    assert not t.is_open and t.outcome == "unreachable" and t.attempts == 3
    assert [type(e) for e in t.events].count(events.TaskClosed) == 1
    with pytest.raises(TaskClosed):
        t.record(
            "satisfied",
            agent_id="a1",
            now=T0 + timedelta(hours=9),
            policy=POLICY,
            require_lease=False,
        )


def test_unsatisfied_needs_a_reason_and_requests_a_reopen():
    t = task()
    with pytest.raises(ReasonRequired):
        call(t, "unsatisfied", T0)
    assert t.is_open and t.attempts == 0
    t.record(
        "unsatisfied",
        agent_id="a1",
        now=T0,
        policy=POLICY,
        reason="还是没电",
        customer_words="灯还不亮",
    )
    assert t.outcome == "unsatisfied" and t.customer_words == "灯还不亮"
    assert any(isinstance(e, events.ReopenRequested) for e in t.events)


def test_only_the_lease_holder_records_and_an_expired_lease_frees_the_task():
    t = task()
    t.lease_to("a1", T0, POLICY)
    with pytest.raises(NotLeaseHolder):
        t.lease_to("a2", T0 + timedelta(minutes=1), POLICY)
    with pytest.raises(NotLeaseHolder):
        t.record("satisfied", agent_id="a2", now=T0, policy=POLICY)
    later = T0 + POLICY.lease + timedelta(seconds=1)
    assert t.is_free(later)
    t.lease_to("a2", later, POLICY)
    with pytest.raises(NotLeaseHolder):
        t.record("satisfied", agent_id="a1", now=later, policy=POLICY)


def test_anonymous_report_is_declined_without_an_attempt_and_left_out_of_rates():
    t = task(ticket_type="report")
    t.mark_not_callable(T0)
    assert t.outcome == "declined" and t.attempts == 0 and not t.callable
    assert count([t], DAY, "unit-1", "report").finished == 0


def test_rates_by_hand():
    ts = [task(f"t{i}") for i in range(10)]
    call(ts[0], "satisfied", T0)
    call(ts[1], "satisfied", T0)
    call(ts[2], "basically_satisfied", T0)
    call(ts[3], "unsatisfied", T0, reason="慢")
    call(ts[4], "declined", T0)
    for i in range(3):
        call(ts[5], "unreachable", T0 + timedelta(hours=2 * i))
    call(ts[6], "unreachable", T0)  # one attempt so far: not yet called back
    other = task("x", unit="unit-2")
    rate = count(ts + [other], DAY, "unit-1", "repair")
    # finished 10; called back 5 (t0..t4: reached); t5 attempted, never reached; satisfied 3
    assert (rate.finished, rate.called_back, rate.reached, rate.satisfied) == (10, 5, 5, 3)
    assert rate.attempted_unreached == 1
    assert rate.callback_rate == pytest.approx(0.5)
    assert rate.satisfaction_rate == pytest.approx(0.6)
    assert rate.key == "2026-03-02|unit-1|repair"


def test_dialling_alone_never_makes_the_callback_rate():
    """10 tickets whose every attempt failed to reach the customer: 0 %, not 100 %."""
    ts = [task(f"u{i}") for i in range(10)]
    for t in ts:
        for i in range(POLICY.max_attempts):
            call(t, "unreachable", T0 + timedelta(hours=2 * i))
    rate = count(ts, DAY, "unit-1", "repair")
    assert (rate.finished, rate.called_back, rate.attempted_unreached) == (10, 0, 10)
    assert rate.callback_rate == 0.0


def test_restoration_notice_sets_no_outcome():
    t = task()
    assert t.note_restoration_notice("a1", T0)
    assert t.is_open and t.outcome is None and t.attempts == 0
    assert not t.note_restoration_notice("a2", T0)  # once


def test_script_hides_a_reporters_name_and_speaks_both_languages():
    script = callback_script(
        callback_script_rules(),
        ticket_type="report",
        called_day=DAY,
        customer_name=None,
        unit_name="杭州供电公司",
    )
    assert all(step["zh"] and step["en"] for step in script["steps"])
    satisfaction = next(s for s in script["steps"] if s["id"] == "satisfaction")
    assert [a["outcome"] for a in satisfaction["answers"]] == [
        "satisfied",
        "basically_satisfied",
        "unsatisfied",
    ]
    named = callback_script(
        callback_script_rules(),
        ticket_type="repair",
        called_day=DAY,
        customer_name="张三",
        unit_name="杭州供电公司",
    )
    assert "张三" in named["steps"][0]["zh"] and "有电了吗" in named["steps"][2]["zh"]


def test_script_names_unit_staff_no_called_day_and_result():
    """Issue 15 point 7: the unit and staff number in the opening, the day the customer called
    (not the completion day), the handling result stated, no doubled 您, full-width punctuation."""
    from datetime import date

    script = callback_script(
        callback_script_rules(),
        ticket_type="complaint",
        called_day=date(2026, 3, 2),
        customer_name="张三",
        unit_name="杭州供电公司",
        staff_no="1024",
        result="已对抄表员批评教育并上门致歉",
    )
    steps = {s["id"]: s for s in script["steps"]}
    assert steps["greeting"]["zh"].startswith("您好！我是杭州供电公司95598供电服务热线1024号")
    assert "3月2日" in steps["matter"]["zh"] and "您您" not in steps["matter"]["zh"]
    assert steps["result"]["zh"] == "处理结果是：已对抄表员批评教育并上门致歉。"
    assert "挂机" not in steps["closing"]["zh"]  # a reminder for the agent, not read out
    assert script["reminders"][0]["zh"] == "（请待客户先挂机）"


def test_a_repairs_result_is_said_from_the_returned_order():
    """What the crew did, by the order's resolution, after the cause they wrote: a customer
    referred to a paid service is not told the crew "repaired" it; the power check still follows."""
    from datetime import date

    from brightline.callback.domain.scripts import repair_result

    rules = callback_script_rules()
    assert repair_result(rules, "repaired", "表箱开关故障。") == "经查是表箱开关故障，故障已修复"
    assert repair_result(rules, "repaired", None) == "故障已修复"
    paid = repair_result(rules, "paid_service_referral", " ")
    assert paid is not None and "有偿服务" in paid and "修复" not in paid
    assert repair_result(rules, "something_new", "x") is None
    script = callback_script(
        rules,
        ticket_type="repair",
        called_day=date(2026, 3, 2),
        customer_name="张三",
        unit_name="杭州供电公司",
        result=paid,
    )
    ids = [s["id"] for s in script["steps"]]
    assert ids.index("result") + 1 == ids.index("check")
    # The matter line does not say the crew finished: the result line says what they did.
    matter = next(s for s in script["steps"] if s["id"] == "matter")
    assert "处理完毕" not in matter["zh"] and "3月2日" in matter["zh"]


def test_a_repair_called_off_is_said_with_its_reason():
    """Power back before the crew came, no fault found: the callback says so, not "repaired"."""
    from brightline.callback.domain.scripts import repair_result

    rules = callback_script_rules()
    said = repair_result(rules, "cancelled", "客户告知已自行恢复供电")
    assert said == "经查是客户告知已自行恢复供电，本次抢修已撤销"
    assert repair_result(rules, "cancelled", None) == "本次抢修已撤销"
