"""The desk's look-ups in Debian's Chromium against the real services, each its own OS process
(intake, dispatch, casework, sla_monitor, callback, records, console) on the real broker and
database, signed in through Keycloak.

- An active outage (a repair reported for a whole area) and a planned outage over the caller's
  area: the screen pop shows both while the call rings, by area name, and the greeting announces
  the outage by the area's name.
- An unknown caller: found by part of the address while ringing, linked to the call; the caller
  card and the ticket form become that customer's, the address gets its service area (chosen by
  name from dispatch's areas), and a reload mid-call keeps the link.
- The search box (agent and supervisor) over records: by 工单号, by the phone written with +86
  and dashes, by part of the address, with the timeline of a ticket; a report an agent never
  finds and a supervisor finds without the reporter; the caller card's recent ticket drills
  into its timeline.
- The whole callback worklist: every waiting task with its due date and time, paged, filtered.

Screenshots at 1366×768 and 1920×1080 go to test-artifacts/console/ on every run; the rendered
page is checked for untranslated keys and raw codes in both languages."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from brightline.platform.auth import Role
from brightline.platform.local.paths import free_port
from brightline.platform.local.progress import wait_ready_by_progress
from brightline.platform.testing import ServiceProcess, bearer

from .desk_browser import ARTIFACTS, shoot, sign_in, untranslated
from .test_agent_desk import hang_up_and_wrap, pick, ring, state_is

# Seven services start in the module's first test; every wait inside is bounded by progress.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

# Digits only: the run shows in addresses on a Chinese screen, where a hex run such as "3aba12"
# would read as a Latin word (untranslated() flagged "aba" in a CI run).
RUN = f"{uuid.uuid4().int % 10**6:06d}"
CALLER = "13905718801"
UNKNOWN = "13800008802"
UNIT = f"unit-{RUN}"
HOME_AREA = f"XH-{RUN}"  # the known caller's area: 文三街道
OTHER_AREA = f"SC-{RUN}"  # the linked customer's area: 幸福里小区
SITE = (30.2741, 120.1551)
INTEGRATION = bearer(Role.INTEGRATION, subject="oms")
SUPERVISOR = bearer(Role.SUPERVISOR, subject="super-9001")
DATE = re.compile(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}")


def ok(response: httpx.Response) -> dict | list:
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture(scope="module")
def stack(kafka_bootstrap, postgres_server, topic_prefix, tmp_path_factory):
    logs = tmp_path_factory.mktemp("desk-lookups-logs")
    suffix = uuid.uuid4().hex[:8]
    names = ("intake", "dispatch", "casework", "sla_monitor", "callback", "records", "console")
    ports = {name: free_port() for name in names}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": postgres_server,
        "KAFKA_TOPIC_PREFIX": topic_prefix,
        "LOG_JSON": "false",
        "INTAKE_DATABASE_NAME": f"test_intake_{suffix}",
        "DISPATCH_DATABASE_NAME": f"test_dispatch_{suffix}",
        "CALLBACK_DATABASE_NAME": f"test_callback_{suffix}",
        "CASEWORK_DATABASE_NAME": f"test_casework_{suffix}",
        "SLA_DATABASE_NAME": f"test_sla_{suffix}",
        "RECORDS_DATABASE_NAME": f"test_records_{suffix}",
        "CONSOLE_DATABASE_NAME": f"test_console_{suffix}",
        # The test answers every offer however busy the machine; ringing out has its own test; a
        # seat they leave alone stays on the floor (losing its desk has its own test, too).
        "CONSOLE_RING_NO_ANSWER_SECONDS": "60",
        "CONSOLE_DESK_LOST_SECONDS": "600",
        "CONSOLE_INTAKE_URL": url["intake"],
        "CONSOLE_DISPATCH_URL": url["dispatch"],
        "CONSOLE_CALLBACK_URL": url["callback"],
        "CONSOLE_CASEWORK_URL": url["casework"],
        "CONSOLE_SLA_URL": url["sla_monitor"],
        "CONSOLE_RECORDS_URL": url["records"],
    }
    procs = [ServiceProcess(name, ports[name], env, logs) for name in names]
    for proc in procs:
        proc.start()
    try:
        for proc in procs:
            wait_ready_by_progress(proc, stall=180)
        seed(url)
        yield url
    finally:
        for proc in procs:
            proc.stop()


def seed(url: dict) -> None:
    """The directory (two customers), the unit and its two named areas."""
    ok(httpx.put(f"{url['dispatch']}/units/{UNIT}", json={"name": "城区抢修"}, headers=INTEGRATION))
    ok(
        httpx.put(
            f"{url['dispatch']}/service-areas",
            json={
                "areas": [
                    {
                        "area_code": HOME_AREA,
                        "unit_id": UNIT,
                        "area_class": "urban",
                        "name": "文三街道",
                    },
                    {
                        "area_code": OTHER_AREA,
                        "unit_id": UNIT,
                        "area_class": "urban",
                        "name": "幸福里小区",
                    },
                ]
            },
            headers=INTEGRATION,
        )
    )
    ok(
        httpx.post(
            f"{url['intake']}/customers/import",
            headers=INTEGRATION,
            json={
                "customers": [
                    {
                        "customer_id": f"33{RUN}01",
                        "name": "李四",
                        "phones": [CALLER],
                        "address": "杭州市文三路100号3幢2单元",
                        "area_code": HOME_AREA,
                    },
                    {
                        "customer_id": f"33{RUN}02",
                        "name": "王五",
                        "phones": ["057188880002"],
                        "address": f"杭州市幸福里小区{RUN}幢1单元",
                        "area_code": OTHER_AREA,
                    },
                ]
            },
            timeout=10,
        )
    )


def until(page, check, what: str, tries: int = 120):
    """Poll `check` (a service answer) once a second, as long as the services make progress."""
    for _ in range(tries):
        found = check()
        if found:
            return found
        page.wait_for_timeout(1000)
    raise AssertionError(f"never happened: {what}")


def record_ticket(intake: str, body: dict, agent: str = "agent-1002") -> dict:
    token = bearer(Role.AGENT, subject=agent, staff_no=agent[-4:])
    return ok(
        httpx.post(
            f"{intake}/tickets",
            json=body,
            headers={**token, "Idempotency-Key": str(uuid.uuid4())},
            timeout=10,
        )
    )


def test_screen_pop_with_outages_and_an_unknown_caller_linked(stack, browser):  # noqa: F811
    now = datetime.now(UTC).replace(microsecond=0)
    # An active outage: a neighbour reports the whole area dark (dispatch declares the incident).
    record_ticket(
        stack["intake"],
        {
            "ticket_type": "repair",
            "description": "整个小区都停电了",
            "caller_name": "邻居",
            "phone": "13905718899",
            "address": "杭州市文三路102号",
            "area_code": HOME_AREA,
            "latitude": SITE[0],
            "longitude": SITE[1],
            "fault_scope": "area",
            "fault_started_at": (now - timedelta(minutes=20)).isoformat(),
        },
    )
    # A planned outage over the same area tomorrow, as the outage management system sends it.
    ok(
        httpx.post(
            f"{stack['dispatch']}/planned-outages",
            json={
                "id": f"plan-{RUN}",
                "unit_id": UNIT,
                "area_codes": [HOME_AREA],
                "starts_at": (now + timedelta(days=1)).isoformat(),
                "ends_at": (now + timedelta(days=1, hours=4)).isoformat(),
                "announced_at": now.isoformat(),
                "reason": "线路检修",
            },
            headers=INTEGRATION,
            timeout=10,
        )
    )
    agent_ctx, agent = sign_in(browser, stack["console"], "agent-1001")
    try:
        token = bearer(Role.AGENT, subject="agent-1001")

        def both_outages_known():
            card = httpx.get(f"{stack['intake']}/caller-cards/{CALLER}", headers=token).json()
            return card.get("active_outages") and card.get("planned_outages")

        until(agent, both_outages_known, "intake knows the active and the planned outage")
        state_is(agent, "not_ready")
        agent.locator("[data-test=go-ready]").click()
        state_is(agent, "ready")

        # ---- The screen pop while it rings: both outages by the area's name, with dates.
        ring(stack["intake"], CALLER)
        agent.wait_for_selector("[data-test=screen-pop]")
        active = agent.locator("[data-test=card-outage]")
        active.first.wait_for()
        assert "文三街道" in active.first.inner_text()
        planned = agent.locator("[data-test=card-planned]")
        planned.first.wait_for()
        assert "文三街道" in planned.first.inner_text()
        assert len(DATE.findall(planned.first.inner_text())) == 2
        shoot(agent, "lookups-1-outages-ringing")
        assert untranslated(agent, "zh-CN") == []
        agent.keyboard.press("a")
        agent.wait_for_selector("[data-test=talking]")
        announcement = agent.locator("[data-test=announcement]")
        announcement.first.wait_for()
        assert "文三街道" in announcement.first.inner_text()
        assert HOME_AREA not in agent.locator("[data-test=greeting-panel]").inner_text()
        shoot(agent, "lookups-2-outage-greeting")
        hang_up_and_wrap(agent, "已提供信息")

        # ---- An unknown number: found by part of the address while it rings, then linked.
        ring(stack["intake"], UNKNOWN)
        agent.wait_for_selector("[data-test=ringing]")
        agent.locator("[data-test=customer-query]").fill(f"幸福里小区{RUN}")
        agent.locator("[data-test=customer-find]").click()
        found = agent.locator("[data-test=customer-found]")
        found.first.wait_for()
        assert found.count() == 1 and "王五" in found.first.inner_text()
        shoot(agent, "lookups-3-unknown-caller-found")
        found.first.locator("[data-test=customer-link]").click()
        agent.wait_for_selector("[data-test=customer-name] >> text=王五")
        agent.keyboard.press("a")
        agent.wait_for_selector("[data-test=talking]")
        agent.wait_for_timeout(1500)  # the card of the number must not come back over the link
        assert "王五" in agent.locator("[data-test=customer-name]").inner_text()
        form = agent.locator("[data-test=ticket-form]")
        address = form.locator("[data-test=field-address] input")
        address.wait_for()
        assert address.input_value() == f"杭州市幸福里小区{RUN}幢1单元"
        area = form.locator("[data-test=field-area_code]")
        area.locator("text=幸福里小区").wait_for()
        # The agent corrects the area, choosing it by the name the caller says.
        area.locator("[data-test=area-select]").click()
        agent.keyboard.type("文三")
        agent.locator(".el-select-dropdown__item:visible", has_text="文三街道").first.click()
        area.locator("text=文三街道").wait_for()
        shoot(agent, "lookups-4-linked-caller-area")
        assert untranslated(agent, "zh-CN") == []
        # A reload mid-call keeps the link and the chosen area.
        agent.reload()
        agent.wait_for_selector("[data-test=talking]")
        agent.wait_for_selector("[data-test=customer-name] >> text=王五")
        agent.locator("[data-test=field-area_code]").locator("text=文三街道").wait_for()
        hang_up_and_wrap(agent, "已提供信息", ready=False)
    except Exception:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        agent.screenshot(path=str(ARTIFACTS / "failure-lookups-outages.png"))
        raise
    finally:
        agent_ctx.close()


def test_search_box_and_timelines_with_confidentiality(stack, browser):  # noqa: F811
    repair = record_ticket(
        stack["intake"],
        {
            "ticket_type": "repair",
            "description": "家里没电",
            "caller_name": "李四",
            "phone": CALLER,
            "address": "杭州市文三路100号3幢2单元",
            "area_code": HOME_AREA,
            "fault_scope": "own_home",
            "fault_started_at": (datetime.now(UTC) - timedelta(minutes=15)).isoformat(),
        },
    )
    report = record_ticket(
        stack["intake"],
        {
            "ticket_type": "report",
            "description": "抄表员收取好处费",
            "caller_name": "举报人甲",
            "phone": "13900008803",
            "address": f"光明路{RUN}号",
        },
    )

    def in_records(ticket_no: str):
        def check():
            answer = httpx.get(
                f"{stack['records']}/tickets", params={"ticket_no": ticket_no}, headers=SUPERVISOR
            )
            return answer.status_code == 200 and answer.json()["items"]

        return check

    agent_ctx, agent = sign_in(browser, stack["console"], "agent-1003")
    boss_ctx, boss = sign_in(browser, stack["console"], "super-9001", path="/supervisor")
    try:
        until(agent, in_records(repair["no"]), "records has the repair ticket")
        until(agent, in_records(report["no"]), "records has the report")

        def search(page, text: str, field: str | None = None) -> list[str]:
            if not page.locator("input[data-test=record-text]").is_visible():
                page.locator("[data-test=open-search]").click()
            if field:
                pick(page, "record-field", field)
            box = page.locator("[data-test=record-search]")
            before = box.get_attribute("data-answered")
            page.locator("input[data-test=record-text]").fill(text)
            page.locator("[data-test=record-go]").click()
            page.wait_for_function(
                "n => document.querySelector('[data-test=record-search]')"
                ".getAttribute('data-answered') !== n",
                arg=before,
            )
            return page.locator(
                "[data-test=record-results] [data-test=record-no]"
            ).all_inner_texts()

        # ---- The agent: by 工单号, by the phone as the caller reads it, by part of the address.
        agent.locator("[data-test=open-search]").click()
        assert search(agent, repair["no"]) == [repair["no"]]
        assert repair["no"] in search(agent, "+86 139-0571-8801")
        assert repair["no"] in search(agent, "文三路100号", "地址")
        agent.locator("[data-test=record-open]").first.click()
        timeline = agent.locator("[data-test=timeline]")
        timeline.locator("[data-test=timeline-no]", has_text=repair["no"]).wait_for()
        recorded = timeline.locator("[data-test=timeline-entry][data-kind='ticket.recorded']")
        recorded.wait_for()
        # Under each step, what it says: here the caller's words as recorded.
        assert recorded.locator("[data-test=timeline-detail]").inner_text() == "家里没电"
        assert DATE.search(timeline.locator("[data-test=timeline-entry]").first.inner_text())
        agent.wait_for_timeout(400)  # the dialog has finished fading in
        shoot(agent, "lookups-5-timeline")
        assert untranslated(agent, "zh-CN") == []
        agent.keyboard.press("Escape")
        timeline.locator("[data-test=timeline-no]").wait_for(state="hidden")
        # A report is not found by an agent, by number or by address.
        assert search(agent, report["no"], "自动识别") == []
        assert search(agent, f"光明路{RUN}", "地址") == []
        shoot(agent, "lookups-6-search-agent")
        agent.keyboard.press("Escape")

        # ---- The supervisor finds the report, without the reporter.
        boss.locator("[data-test=open-search]").click()
        assert search(boss, report["no"]) == [report["no"]]
        assert boss.locator("[data-test=record-hidden]").count() == 1
        assert "举报人甲" not in boss.locator("[data-test=record-results]").inner_text()
        boss.locator("[data-test=record-open]").first.click()
        boss.locator("[data-test=timeline-confidential]").wait_for()
        caller = boss.locator("[data-test=timeline-caller]").inner_text()
        assert "举报人甲" not in caller and "13900008803" not in caller
        boss.wait_for_timeout(400)  # the dialog has finished fading in
        shoot(boss, "lookups-7-report-supervisor")
        # The desk's 保密信息查阅记录 names each reader by sign-in id, as the audit does: once it
        # has loaded this supervisor's own finds (when depends on the machine), `super-9001`
        # is on the screen as data, like a transformer's name.
        assert untranslated(boss, "zh-CN", names=("super-9001",)) == []
        boss.keyboard.press("l")
        boss.wait_for_selector("text=Ticket history")
        assert untranslated(boss, "en") == []
        shoot(boss, "lookups-8-report-supervisor-english")

        # ---- The caller card's recent ticket drills into its timeline.
        agent.locator("[data-test=go-ready]").click()
        state_is(agent, "ready")
        ring(stack["intake"], CALLER)
        agent.wait_for_selector("[data-test=screen-pop]")
        recent = agent.locator("[data-test=card-ticket]", has_text=repair["no"]).first
        recent.wait_for()
        # Listed once (open), not again among the recent ones, with intake's status as it is.
        assert agent.locator("[data-test=card-ticket]", has_text=repair["no"]).count() == 1
        assert "已受理" in recent.inner_text()
        recent.get_by_role("button").click()
        agent.locator(
            "[data-test=timeline] [data-test=timeline-no]", has_text=repair["no"]
        ).wait_for()
        agent.wait_for_timeout(400)  # the dialog has finished fading in
        shoot(agent, "lookups-9-card-drill")
        agent.keyboard.press("Escape")
        agent.keyboard.press("a")
        agent.wait_for_selector("[data-test=talking]")
        hang_up_and_wrap(agent, "已提供信息", ready=False)
    except Exception:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        agent.screenshot(path=str(ARTIFACTS / "failure-lookups-search-agent.png"))
        boss.screenshot(path=str(ARTIFACTS / "failure-lookups-search-supervisor.png"))
        raise
    finally:
        agent_ctx.close()
        boss_ctx.close()


def test_the_whole_callback_worklist(stack, browser):  # noqa: F811
    token = bearer(Role.AGENT, subject="agent-1002", staff_no="1002")
    made = []
    for n in range(12):
        ticket = record_ticket(
            stack["intake"],
            {
                "ticket_type": "consultation",
                "description": f"电费怎么查（{n}）",
                "caller_name": "王五",
                "phone": f"1390571{n:04d}",
            },
        )
        ok(
            httpx.post(
                f"{stack['intake']}/tickets/{ticket['id']}/complete",
                headers=token,
                json={"reply": "可在网上国网App查询"},
                timeout=10,
            )
        )
        made.append(ticket["id"])
    agent_ctx, agent = sign_in(browser, stack["console"], "agent-1004")
    try:

        def all_waiting():
            answer = httpx.get(
                f"{stack['callback']}/callback-tasks/waiting",
                params={"ticket_type": "consultation", "limit": 100},
                headers=SUPERVISOR,
            )
            ids = {t["ticket_id"] for t in answer.json()["items"]}
            return answer.status_code == 200 and set(made) <= ids

        until(agent, all_waiting, "the callback service made a task of every consultation")
        queue = agent.locator("[data-test=callback-queue]")
        queue.locator("[data-test=callback-queue-refresh]").click()
        agent.wait_for_function(
            "() => /共 (\\d+) 项/.test(document.querySelector("
            "'[data-test=callback-queue-total]')?.innerText) && Number(document.querySelector("
            "'[data-test=callback-queue-total]').innerText.match(/\\d+/)[0]) >= 12"
        )
        dues = queue.locator("[data-test=callback-queue-due]").all_inner_texts()
        assert len(dues) == 10 and all(DATE.fullmatch(d.strip()) for d in dues), dues
        shoot(agent, "lookups-10-callback-worklist")
        # Taking the next task: the worklist shows it held without 刷新; before calling, the
        # agent reads the ticket (what the customer asked); the outcome saved, it is free.
        held = queue.locator("[data-test=callback-queue-table] td", has_text="是")
        assert held.count() == 0
        agent.locator("[data-test=take-callback]").click()
        agent.locator("[data-test=callback-current]").wait_for()
        held.first.wait_for()
        agent.locator("[data-test=callback-ticket]").click()
        agent.locator("[data-test=timeline-no]").wait_for()
        agent.keyboard.press("Escape")
        agent.locator("[data-test=timeline-no]").wait_for(state="hidden")
        agent.locator("[data-test=callback-save]").click()
        agent.locator("[data-test=callback-done]", has_text="满意").wait_for()
        until(agent, lambda: held.count() == 0, "the worklist reads the task free again")
        queue.locator("[data-test=callback-queue-pages] .number", has_text="2").click()
        queue.locator("[data-test=callback-queue-pages] .number.is-active", has_text="2").wait_for()
        agent.wait_for_selector("[data-test=callback-queue][data-loading=false]")
        assert 1 <= queue.locator("[data-test=callback-queue-due]").count() <= 10
        # Filtered to overdue ones: none of these is due yet.
        queue.locator("[data-test=callback-queue-overdue]").click()
        queue.locator("text=暂无待回访任务").wait_for()
        assert untranslated(agent, "zh-CN") == []
        agent.locator("[data-test=language]").click()  # the focus is in the filter: no "L" key
        agent.wait_for_selector("text=Callbacks waiting")
        assert untranslated(agent, "en") == []
        shoot(agent, "lookups-11-callback-worklist-english")
    except Exception:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        agent.screenshot(path=str(ARTIFACTS / "failure-lookups-worklist.png"))
        raise
    finally:
        agent_ctx.close()


def test_the_shift_hands_its_open_tickets_to_a_colleague_on_the_floor(stack, browser):  # noqa: F811
    """首问负责制: unfinished work goes to the next shift. The agent leaving picks a colleague
    signed in on the floor and hands over the tickets ticked, then every one left."""
    mine = [
        record_ticket(
            stack["intake"],
            {
                "ticket_type": "consultation",
                "description": f"咨询电费发票（{n}）",
                "caller_name": "王五",
                "phone": f"1390572{n:04d}",
            },
            agent="agent-1004",
        )
        for n in range(3)
    ]
    ids = [t["id"] for t in mine]

    def open_tickets_of(agent: str) -> set[str]:
        return {
            t["id"]
            for t in httpx.get(
                f"{stack['intake']}/tickets",
                params={"owner": agent, "open": "true"},
                headers=SUPERVISOR,
                timeout=10,
            ).json()
        }

    leaving_ctx, leaving = sign_in(browser, stack["console"], "agent-1004")
    next_ctx, next_shift = sign_in(browser, stack["console"], "agent-1001")
    try:
        next_shift.locator("[data-test=go-ready]").click()
        state_is(next_shift, "ready")
        # One ticket ticked: only it goes.
        row = leaving.locator("[data-test=my-ticket]", has_text=mine[0]["no"])
        row.locator("[data-test=handover-pick]").click()
        pick(leaving, "handover-to", "1001")
        leaving.locator("[data-test=handover-go]", has_text="交接所选（1）").click()
        leaving.locator(".el-message-box__message", has_text="勾选的 1 张").wait_for()
        leaving.locator(".el-message-box__btns button", has_text="交接").click()
        leaving.locator(".el-message", has_text="已将 1 张工单交接给").wait_for()
        assert open_tickets_of("agent-1001") & set(ids) == {ids[0]}
        assert set(ids[1:]) <= open_tickets_of("agent-1004")
        # Nothing ticked: every open ticket left goes.
        leaving.locator("[data-test=my-ticket]", has_text=mine[0]["no"]).wait_for(state="hidden")
        pick(leaving, "handover-to", "1001")
        leaving.locator("[data-test=handover-go]").click()
        leaving.locator(".el-message-box__btns button", has_text="交接").click()
        until(leaving, lambda: not open_tickets_of("agent-1004"), "every open ticket moved")
        shoot(leaving, "handover-done")
        assert set(ids) <= open_tickets_of("agent-1001")
    except Exception:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        leaving.screenshot(path=str(ARTIFACTS / "failure-handover.png"))
        raise
    finally:
        leaving_ctx.close()
        next_ctx.close()
