"""Greeting engine over the shipped greetings.yaml."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from brightline.intake.adapters.rule_files import greeting_rules
from brightline.intake.domain.greetings import (
    FESTIVAL_CODES,
    SITUATIONS,
    GreetingContext,
    OutageNotice,
    ReplyPromise,
    festivals_on,
)

SH = ZoneInfo("Asia/Shanghai")
UNIT = "国网杭州供电公司"


def at(y, m, d, hh=10, mm=0, tz=SH):
    return datetime(y, m, d, hh, mm, tzinfo=tz)


def ctx(when=None, **kw):
    kw.setdefault("staff_no", "1024")
    kw.setdefault("unit_name", UNIT)
    return GreetingContext(call_time=when or at(2025, 3, 12), **kw)


@pytest.fixture(scope="module")
def rules():
    return greeting_rules()


# -- festivals -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "day, code",
    [
        (date(2025, 10, 6), "mid_autumn"),
        (date(2026, 2, 17), "spring_festival"),
        (date(2026, 2, 16), "new_year_eve"),
        (date(2025, 1, 28), "new_year_eve"),  # a 29-day 12th month
        (date(2026, 3, 3), "lantern"),
        (date(2025, 4, 4), "qingming"),
        (date(2025, 5, 31), "dragon_boat"),
        (date(2025, 8, 29), "qixi"),
        (date(2025, 10, 29), "double_ninth"),
        (date(2026, 1, 1), "new_year"),
        (date(2025, 5, 1), "labour_day"),
        (date(2025, 10, 3), "national_day"),
    ],
)
def test_festivals_on_returns_stable_codes(day, code):
    assert code in festivals_on(day)
    assert set(festivals_on(day)) <= set(FESTIVAL_CODES)


def test_ordinary_day_has_no_festival():
    assert festivals_on(date(2025, 3, 12)) == []


def test_mid_autumn_festival_opening_wins_over_national_day_and_time_of_day(rules):
    g = rules.greet(ctx(at(2025, 10, 6, 9)))
    assert g.festival == "mid_autumn"
    assert (
        g.opening == "中秋快乐！您好，国网杭州供电公司95598，1024号为您服务，请问有什么可以帮您？"
    )
    assert "早上好" not in g.opening


def test_spring_festival_opening(rules):
    g = rules.greet(ctx(at(2026, 2, 17, 20)))
    assert g.festival == "spring_festival"
    assert g.opening.startswith("新春快乐！您好，国网杭州供电公司95598，1024号为您服务")


def test_festival_is_judged_on_the_shanghai_date(rules):
    # 2026-02-16 17:00 UTC is 2026-02-17 01:00 in Shanghai: already Spring Festival.
    g = rules.greet(ctx(datetime(2026, 2, 16, 17, 0, tzinfo=ZoneInfo("UTC"))))
    assert g.festival == "spring_festival"


def test_festivals_can_be_given_by_the_caller_of_the_engine(rules):
    g = rules.greet(ctx(at(2025, 3, 12), festivals=("qixi",)))
    assert g.opening.startswith("七夕快乐！")
    assert rules.greet(ctx(at(2025, 10, 6), festivals=())).festival is None


# -- time of day -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "hh, mm, band, salutation",
    [
        (5, 0, "morning", "早上好"),
        (10, 59, "morning", "早上好"),
        (11, 0, "noon", "中午好"),
        (12, 30, "noon", "中午好"),
        (13, 0, "afternoon", "下午好"),
        (17, 59, "afternoon", "下午好"),
        (18, 0, "evening", "晚上好"),
        (21, 59, "evening", "晚上好"),
        (22, 0, "night", "您好"),
        (2, 0, "night", "您好"),
    ],
)
def test_time_of_day_bands(rules, hh, mm, band, salutation):
    g = rules.greet(ctx(at(2025, 3, 12, hh, mm)))
    assert g.time_band == band
    assert g.opening == f"{salutation}，国网杭州供电公司95598，1024号为您服务，请问有什么可以帮您？"


def test_band_uses_business_timezone_not_the_given_offset(rules):
    # 01:00 UTC = 09:00 Shanghai.
    g = rules.greet(ctx(datetime(2025, 3, 12, 1, 0, tzinfo=ZoneInfo("UTC"))))
    assert g.time_band == "morning"


def test_staff_number_and_unit_are_in_the_opening(rules):
    g = rules.greet(ctx(staff_no="0371", unit_name="国网郑州供电公司"))
    assert "国网郑州供电公司95598" in g.opening and "0371号为您服务" in g.opening
    assert g.rules_version == f"greetings@{rules.version}"


def test_naive_call_time_is_refused():
    with pytest.raises(ValueError):
        GreetingContext(call_time=datetime(2025, 3, 12, 9), staff_no="1", unit_name=UNIT)


# -- language --------------------------------------------------------------------------
def test_english_caller_gets_english_texts_and_an_agent_note(rules):
    g = rules.greet(
        ctx(
            at(2025, 3, 12, 15),
            language="en",
            unit_name_en="State Grid Hangzhou Power Supply Company",
        )
    )
    assert g.language == "en"
    assert g.opening == (
        "Good afternoon, State Grid Hangzhou Power Supply Company 95598, agent number 1024 speaking."
        " How may I help you?"
    )
    assert g.closing.startswith("Thank you for calling")
    assert any("English" in n for n in g.agent_notes) or any("英语" in n for n in g.agent_notes)


def test_english_festival_opening(rules):
    g = rules.greet(ctx(at(2025, 10, 6), language="en"))
    assert g.opening.startswith(
        "Happy Mid-Autumn Festival! Hello, 国网杭州供电公司 95598, agent number 1024"
    )


def test_dialect_keeps_mandarin_text_and_tells_the_agent(rules):
    g = rules.greet(ctx(language="dialect", dialect="粤语"))
    assert g.language == "zh" and g.caller_language == "dialect"
    assert g.opening.startswith("早上好，")
    assert "方言" in g.agent_notes[0] and "粤语" in g.agent_notes[0]


def test_mandarin_is_the_default(rules):
    g = rules.greet(ctx())
    assert g.caller_language == "zh" and not any("方言" in n for n in g.agent_notes[:1])


# -- special situations ------------------------------------------------------------------
def test_known_outage_is_announced_first_with_restore_time(rules):
    outage = OutageNotice(
        area="西湖区文三路", cause="线路故障", expected_restore_at=at(2025, 3, 12, 18, 30)
    )
    g = rules.greet(ctx(at(2025, 3, 12, 9), outage=outage))
    assert g.announcements == (
        "您所在的西湖区文三路因线路故障停电，预计今天18:30恢复供电，给您带来不便，敬请谅解！",
    )
    # Said right after the opening, before any question.
    assert g.spoken_lines()[:2] == [g.opening, g.announcements[0]]
    assert g.prompt("outage_known").action == "continue"


def test_outage_restore_on_another_day_and_in_english(rules):
    outage = OutageNotice(
        area="西湖区", area_en="Xihu District", expected_restore_at=at(2025, 3, 13, 8, 0)
    )
    zh = rules.greet(ctx(at(2025, 3, 12, 23), outage=outage))
    assert "预计3月13日08:00恢复供电" in zh.announcements[0]
    en = rules.greet(ctx(at(2025, 3, 12, 23), outage=outage, language="en"))
    assert en.announcements[0] == (
        # The cause is not known: only "a fault", never a guessed one (issue 14, point 8).
        "There is a power outage in Xihu District due to a fault;"
        " power is expected back by 08:00 on 13 Mar. We apologise for the inconvenience."
    )


def test_outage_without_restore_time_says_so(rules):
    g = rules.greet(ctx(outage=OutageNotice(area="西湖区")))
    assert "恢复时间确定后" in g.announcements[0]


def test_outage_flag_without_notice_is_refused():
    with pytest.raises(ValueError):
        ctx(situations=frozenset({"outage_known"}))


def test_system_fault_takes_a_callback_number(rules):
    p = rules.greet(ctx(situations=frozenset({"system_fault"}))).prompt("system_fault")
    assert "系统暂时出现故障" in p.lines[0] and "联系电话" in p.lines[0]
    assert p.action == "take_callback_number"


def test_silent_call_timed_prompts_then_polite_hang_up(rules):
    p = rules.greet(ctx(situations=frozenset({"silent_call"}))).prompt("silent_call")
    assert [t.after_seconds for t in p.timed] == [0, 5, 10]
    assert [t.action for t in p.timed] == ["say", "say", "hang_up"]
    assert "请讲" in p.timed[0].text
    assert "再见" in p.timed[-1].text
    assert p.action == "hang_up"


def test_inaudible_voice_asks_to_speak_up_then_call_again(rules):
    p = rules.greet(ctx(situations=frozenset({"inaudible"}))).prompt("inaudible")
    assert "大声一点" in p.lines[0] and "换一部电话" in p.lines[1]
    assert p.action == "continue"


def test_wrong_number(rules):
    p = rules.greet(ctx(situations=frozenset({"wrong_number"}))).prompt("wrong_number")
    # Continues politely: the agent never hangs up on the caller (issue 15 point 9).
    assert "拨错电话" in p.lines[0] and p.action == "continue"


def test_report_closing_reads_without_a_doubled_bing(rules):
    g = rules.greet(ctx(closing_for="report", reply_within=ReplyPromise(10, "days")))
    assert g.closing.count("并") == 1, g.closing
    assert "10天内给您明确的答复" in g.closing


def test_kind_invitation_is_declined_politely(rules):
    p = rules.greet(ctx(situations=frozenset({"kind_invitation"}))).prompt("kind_invitation")
    assert "感谢您的盛情" in p.lines[0] and p.action == "continue"


def test_harassing_caller_goes_to_duty_supervisor(rules):
    g = rules.greet(ctx(situations=frozenset({"harassing"})))
    assert g.prompt("harassing").action == "transfer_supervisor"
    assert "值班长" in g.prompt("harassing").lines[-1]
    assert g.transfer_to_supervisor


def test_agitated_caller_is_calmed_then_transferred(rules):
    g = rules.greet(ctx(situations=frozenset({"agitated"})))
    p = g.prompt("agitated")
    assert p.lines[0] == "您先别急，我们会尽力为您解决。"
    assert p.action == "transfer_supervisor" and g.transfer_to_supervisor


def test_policy_conflict_uses_the_seed_reply(rules):
    p = rules.greet(
        ctx(situations=frozenset({"policy_conflict"}), policy_rule="《供电营业规则》")
    ).prompt("policy_conflict")
    assert (
        p.lines[0]
        == "真是抱歉，根据现有的《供电营业规则》规定，我们还无法提供您所期望的服务，请您谅解。"
    )


def test_no_situation_no_prompt(rules):
    g = rules.greet(ctx())
    assert g.prompts == () and g.announcements == () and not g.transfer_to_supervisor


def test_unknown_situation_is_refused():
    with pytest.raises(ValueError):
        ctx(situations=frozenset({"alien_call"}))


# -- closing ---------------------------------------------------------------------------
def test_general_closing_thanks_and_reminds_agent_to_let_customer_hang_up_first(rules):
    g = rules.greet(ctx())
    # "Anything else?" first; the goodbye only after the customer's answer (issue 15 point 9).
    assert g.closing == "感谢您的来电。请问还有其他可以帮您的吗？"
    assert g.goodbye == "祝您生活愉快，再见！"
    assert "客户先挂断" in g.closing_reminder
    assert g.closing_reminder in g.agent_notes
    assert g.closing_reminder not in g.spoken_lines()


def test_complaint_closing_thanks_and_says_when_they_hear_back(rules):
    g = rules.greet(ctx(closing_for="complaint", reply_within=ReplyPromise(5, "working_days")))
    assert g.closing.startswith(
        "非常感谢您的宝贵意见，我们会尽快向有关部门反映，并在5个工作日内给您明确的答复。"
    )


def test_suggestion_closing_thanks_for_the_suggestion(rules):
    g = rules.greet(ctx(closing_for="suggestion", reply_within="5个工作日内"))
    assert g.closing.startswith(
        "非常感谢您的宝贵建议，我们将在以后的工作中改进，并在5个工作日内给您明确的答复"
    )


def test_closing_in_english_with_a_deadline(rules):
    g = rules.greet(ctx(language="en", closing_for="report", reply_within=ReplyPromise(10, "days")))
    assert "Thank you very much for your report" in g.closing
    assert "within 10 days" in g.closing
    by = rules.closing("en", "complaint", ReplyPromise(by=at(2025, 3, 17, 18)))
    assert "by 18:00 on 17 Mar" in by


def test_repair_closing_uses_general_thanks(rules):
    assert rules.closing("zh", "repair").startswith("感谢您的来电")


def test_the_adapter_reads_the_shipped_rules_once():
    assert greeting_rules() is greeting_rules()
    assert greeting_rules().greet(ctx()).opening.startswith("早上好，")


def test_every_situation_renders_in_both_languages(rules):
    outage = OutageNotice(area="西湖区", expected_restore_at=at(2025, 3, 12, 18))
    for lang in ("zh", "en"):
        g = rules.greet(ctx(language=lang, situations=frozenset(SITUATIONS), outage=outage))
        assert [p.situation for p in g.prompts] == list(SITUATIONS)
        for p in g.prompts:
            assert p.lines or p.timed
            assert all(line.strip() for line in p.lines)
            assert "{" not in "".join(p.lines)


def test_dragon_boat_2026_is_found_through_the_shared_lunar_calendar(rules):
    # 2026-06-19 is the 5th day of the 5th lunar month; nothing in the call says so.
    g = rules.greet(
        GreetingContext(
            call_time=datetime(2026, 6, 19, 9, 30, tzinfo=SH),
            staff_no="7",
            unit_name="国网杭州供电公司",
        )
    )
    assert g.festival == "dragon_boat" and g.opening.startswith("端午安康！")


def test_calendar_festivals_without_a_greeting_are_ignored(rules):
    # Laba (lunar 12/8, 2026-01-26) and Women's Day are calendar festivals the rules do not greet.
    for day in (datetime(2026, 1, 26, 10, 0, tzinfo=SH), datetime(2026, 3, 8, 10, 0, tzinfo=SH)):
        g = rules.greet(GreetingContext(call_time=day, staff_no="7", unit_name="国网杭州供电公司"))
        assert g.festival is None and g.opening.startswith("早上好")
