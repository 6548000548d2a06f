"""Browser tests of the classic page (/classic: the supervisor's SLA and repair boards until the
Vue wallboard of issue 19 replaces them; the agent desk itself is tested in test_agent_desk.py):
Playwright driving Debian's Chromium against the real services, each its own
process on the real broker and database. An agent signs in, a call rings at intake's CTI webhook
(as the switch sends it), the agent answers with the keyboard, follows the repair script, records
the ticket, and the supervisor (a second browser context) sees it live on the board; the repair
board shows its work order. Screenshots go to test-artifacts/console/ (git-ignored)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from brightline.platform.auth import Role
from brightline.platform.local.paths import free_port
from brightline.platform.testing import ServiceProcess, bearer

from .desk_browser import ARTIFACTS, import_customer
from .desk_browser import sign_in as sign_in_at

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(kafka_bootstrap, postgres_server, topic_prefix, oidc_issuer, tmp_path_factory):
    """intake, dispatch, callback, sla_monitor and the console, as in `make run`."""
    logs = tmp_path_factory.mktemp("console-browser-logs")
    suffix = uuid.uuid4().hex[:8]
    names = ("intake", "dispatch", "callback", "sla_monitor", "console")
    ports = {name: free_port() for name in names}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": postgres_server,
        "KAFKA_TOPIC_PREFIX": topic_prefix,
        "LOG_JSON": "false",
        "BRIGHTLINE_ENV": "development",
        "BRIGHTLINE_OIDC_ISSUER": oidc_issuer,
        "INTAKE_DATABASE_NAME": f"test_intake_{suffix}",
        "DISPATCH_DATABASE_NAME": f"test_dispatch_{suffix}",
        "CALLBACK_DATABASE_NAME": f"test_callback_{suffix}",
        "SLA_DATABASE_NAME": f"test_sla_{suffix}",
        "CONSOLE_DATABASE_NAME": f"test_console_{suffix}",
        "CONSOLE_INTAKE_URL": url["intake"],
        "CONSOLE_DISPATCH_URL": url["dispatch"],
        "CONSOLE_CALLBACK_URL": url["callback"],
        "CONSOLE_SLA_URL": url["sla_monitor"],
        "CONSOLE_CASEWORK_URL": "http://127.0.0.1:9",  # not started: the console must cope without it
    }
    procs = {name: ServiceProcess(name, ports[name], env, logs) for name in names}
    for proc in procs.values():
        proc.start()
    try:
        for proc in procs.values():
            proc.wait_ready(timeout=120)
        spec = httpx.get(f"{url['intake']}/openapi.json", timeout=10).json()
        missing = {
            "/cti/events",
            "/calls/{call_id}/caller-card",
            "/greetings",
            "/scripts/{ticket_type}/next",
        } - set(spec["paths"])
        assert not missing, (
            f"intake lacks {sorted(missing)}: these browser tests need the intake of issue 1 (merge it first)"
        )
        yield url
    finally:
        for proc in procs.values():
            proc.stop()


def sign_in(browser, base: str, username: str):
    """The classic page (kept at /classic for the supervisor boards until issue 19)."""
    return sign_in_at(browser, base, username, path="/classic")


def switch(url: str, body: dict) -> dict:
    """What the telephony switch sends to intake's CTI webhook."""
    r = httpx.post(
        f"{url}/cti/events",
        json=body,
        headers=bearer(Role.INTEGRATION, subject="switch"),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_agent_takes_a_repair_call_and_the_supervisor_sees_it(stack, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    caller = "13905710001"
    import_customer(stack["intake"], caller)

    agent_ctx, agent = sign_in(browser, stack["console"], "agent-1001")
    boss_ctx, boss = sign_in(browser, stack["console"], "super-9001")
    try:
        agent.wait_for_selector("#my-state[data-state='not_ready']")
        boss.wait_for_selector("#agents-table")
        boss.wait_for_selector("#conn[data-state='on']")
        agent.wait_for_selector("#conn[data-state='on']")
        agent.keyboard.press("r")  # ready, by keyboard
        agent.wait_for_selector("#my-state[data-state='ready']")
        boss.wait_for_selector("#agents-table tr[data-agent='agent-1001'] .pill.ready")

        call_id = f"browser-{uuid.uuid4().hex[:8]}"
        switch(
            stack["intake"],
            {
                "event": "newCall",
                "callId": call_id,
                "timestamp": datetime.now(UTC).isoformat(),
                "callerNumber": caller,
                "calledNumber": "95598",
                "queue": "95598",
            },
        )

        agent.wait_for_selector(
            "#answer"
        )  # the call pops up at the ready agent, with the answer clock
        assert agent.locator("#offer-number").inner_text() == caller
        assert agent.locator("#clock .secs").inner_text().endswith("s")
        agent.screenshot(path=str(ARTIFACTS / "softphone-ringing.png"))
        agent.keyboard.press("a")  # answer, by keyboard

        agent.wait_for_selector("#greeting-line:not(:empty)")
        greeting = agent.locator("#greeting-line").inner_text()
        assert (
            "1001" in greeting and "95598" in greeting
        )  # the staff number and the hotline, from intake's rules
        assert "李四" in agent.locator("#p-card").inner_text()  # the caller card knows the customer
        assert agent.locator("#answer-delay").inner_text().strip().endswith("s")

        # The repair script: scope, time, address, name, phone, description, the agent's repeat check.
        agent.wait_for_selector("#script-choices")
        agent.get_by_role("button", name="整个小区或片区").click()
        for _ in range(
            4
        ):  # time (defaults to now), address, name, phone: prefilled from the caller card
            agent.wait_for_selector("#script-input")
            prompt = agent.locator("#script-prompt").inner_text()
            agent.locator("#script-input").press("Enter")
            agent.wait_for_function(
                "p => document.querySelector('#script-prompt')?.innerText !== p", arg=prompt
            )
        agent.wait_for_selector("#script-input")
        agent.fill("#script-input", "整个小区停电，听到变压器一声响")
        agent.locator("#script-input").press("Enter")
        agent.get_by_role("button", name="否").click()
        agent.wait_for_selector("#script-outcome")
        assert agent.locator("#f-fault_scope").input_value() == "整个小区或片区"
        assert agent.locator("#f-address").input_value() == "杭州市文三路100号3幢2单元"

        agent.keyboard.press("Control+s")  # record the ticket
        agent.wait_for_selector("#recorded")
        ticket_no = (
            agent.locator("#recorded")
            .inner_text()
            .split("：")[-1]
            .split(":")[-1]
            .strip()
            .splitlines()[0]
        )
        assert ticket_no
        agent.screenshot(path=str(ARTIFACTS / "softphone-with-call.png"))

        # Escalate to the supervisor, who accepts it.
        agent.select_option("#esc-reason", "agitated")
        agent.click("#escalate")
        escalation = boss.locator("[data-escalation]", has_text="agent-1001")
        escalation.wait_for()
        escalation.get_by_role("button", name="接受").click()
        boss.locator("[data-escalation]", has_text="accepted").wait_for()

        # The supervisor sees the ticket on the board (live, over SSE) and the agent talking.
        boss.wait_for_selector(f"#tickets-table >> text={ticket_no}")
        boss.wait_for_selector("#agents-table tr[data-agent='agent-1001'] .pill.talking")
        boss.screenshot(path=str(ARTIFACTS / "supervisor-floor.png"))

        # Wrap-up: the caller hangs up first; the closing line; ready again.
        agent.keyboard.press("h")
        agent.wait_for_selector("#closing-line:not(:empty)")
        agent.screenshot(path=str(ARTIFACTS / "softphone-wrap-up.png"))
        agent.click("#wrap-break")  # done, and a break: the calls below are not for this seat
        agent.wait_for_selector("#my-state[data-state='not_ready']")

        # More traffic straight from the switch (its own timestamps): answered in 5 s, answered in
        # 20 s (late), abandoned, and one still ringing for a minute (an answer deadline breached).
        now = datetime.now(UTC)
        for n, (ring_ago, answer_ago, end) in enumerate(
            [(60, 55, "normal"), (50, 30, "normal"), (40, None, "abandoned"), (60, None, None)]
        ):
            cid = f"{call_id}-x{n}"
            switch(
                stack["intake"],
                {
                    "event": "newCall",
                    "callId": cid,
                    "callerNumber": f"1370000000{n}",
                    "calledNumber": "95598",
                    "queue": "95598",
                    "timestamp": (now - timedelta(seconds=ring_ago)).isoformat(),
                },
            )
            if answer_ago is not None:
                switch(
                    stack["intake"],
                    {
                        "event": "answer",
                        "callId": cid,
                        "agentExtension": "2001",
                        "agentId": "robot-2001",
                        "timestamp": (now - timedelta(seconds=answer_ago)).isoformat(),
                    },
                )
            if end is not None:
                switch(
                    stack["intake"],
                    {
                        "event": "hangup",
                        "callId": cid,
                        "cause": end,
                        "timestamp": (now - timedelta(seconds=5)).isoformat(),
                    },
                )

        # Repair board: the order dispatch made from the ticket.
        boss.keyboard.press("3")
        boss.wait_for_selector("#orders-table tbody tr[data-ticket]", timeout=60_000)

        # SLA board with charts: the call answered within 12 s counts today.
        boss.keyboard.press("2")
        boss.wait_for_selector("#chart-answer svg")
        boss.wait_for_selector("#chart-breaches")
        for _ in range(30):  # the SLA monitor counts the answered call once its event arrives
            label = boss.locator("#chart-answer svg").get_attribute("aria-label")
            if not label.endswith("—") and boss.locator(
                "#c-answer h2 .muted"
            ).inner_text().startswith("3/"):
                break
            boss.click("#reload-board")
            boss.wait_for_timeout(2000)
        assert label.endswith("%"), label  # the SLA monitor's rate for today, drawn as a gauge
        boss.wait_for_selector("#chart-answer-week svg rect")
        # The call left ringing breached its answer limit: it is on the breach list, and chased (催办).
        row = boss.locator("#breaches-table tr[data-deadline]", has_text=f"{call_id}-x3")
        row.wait_for(timeout=60_000)
        boss.wait_for_selector("#chart-breaches svg rect")
        row.get_by_role("button", name="催办").click()
        boss.locator("#breaches-table tr[data-deadline]", has_text=f"{call_id}-x3").get_by_text(
            "已催办 1 次"
        ).wait_for()
        boss.screenshot(path=str(ARTIFACTS / "supervisor-sla-board.png"))

        # English is one key away, and the strings follow.
        boss.keyboard.press("l")
        boss.wait_for_selector("text=Answered within 12 s (today)")
        boss.wait_for_selector("text=Open breaches by type")
    except Exception:
        agent.screenshot(path=str(ARTIFACTS / "failure-agent.png"))
        boss.screenshot(path=str(ARTIFACTS / "failure-supervisor.png"))
        raise
    finally:
        agent_ctx.close()
        boss_ctx.close()


def test_demo_seeds_through_the_services_and_its_traffic_reaches_the_board(stack, browser):
    """What `make run` starts: demo data through the integration APIs (casework is not running
    here: its departments are skipped with a warning), a call rung by the simulator, answered by a
    robot agent who records a ticket, and crews signed in on the mobile API."""
    import asyncio

    from brightline.console.demo import CREWS, Demo
    from brightline.console.settings import ConsoleSettings

    settings = ConsoleSettings(
        intake_url=stack["intake"],
        dispatch_url=stack["dispatch"],
        callback_url=stack["callback"],
        sla_url=stack["sla_monitor"],
        casework_url="http://127.0.0.1:9",
    )
    units = {crew_id: unit_id for crew_id, unit_id, _ in CREWS}

    class SessionIdentity:
        """The demo's token source over the session's Keycloak (the demo import of make run,
        with its demo client and passwords, is not loaded into the tests' realm)."""

        async def client_token(self) -> str:
            return token(bearer(Role.INTEGRATION, subject="demo-integration"))

        async def user_token(self, username: str, password: str) -> str:
            if username.endswith("-m1"):
                crew = username.removesuffix("-m1")
                return token(bearer(Role.CREW, subject=username, crew_id=crew, unit_id=units[crew]))
            role = Role.SUPERVISOR if username == "demo-supervisor" else Role.AGENT
            return token(bearer(role, subject=username, staff_no=username[-4:]))

    def token(headers: dict) -> str:
        return headers["Authorization"].split(" ", 1)[1]

    demo = Demo(settings, seed=7, identity=SessionIdentity())

    async def run() -> str:
        try:
            await demo.fresh_tokens()
            await demo.seed()
            await demo.ring()
            [(call_id, rang_at)] = demo.calls.items()
            await demo.robot_take(call_id, rang_at)
            await demo.crews_move()
            return call_id
        finally:
            await demo.up.close()

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        call_id = pool.submit(asyncio.run, run()).result()
    assert set(demo.crew_tokens) == {c[0] for c in CREWS}  # every crew member could sign in
    staff = bearer(Role.SUPERVISOR, subject="super-9001")
    crews = httpx.get(f"{stack['dispatch']}/crews", headers=staff, timeout=10).json()
    assert {c["crew_id"] for c in crews} >= {c[0] for c in CREWS} and all(
        c["on_duty"] for c in crews
    )
    card = httpx.get(
        f"{stack['intake']}/caller-cards/{demo.customers[0]['phones'][0]}",
        headers=staff,
        timeout=10,
    ).json()
    assert card["customers"][0]["name"] == demo.customers[0]["name"]
    call = httpx.get(f"{stack['intake']}/calls/{call_id}", headers=staff, timeout=10).json()
    assert call["state"] in ("ended", "answered") or call["end_cause"] == "abandoned"

    context, boss = sign_in(browser, stack["console"], "super-9001")
    try:
        boss.wait_for_selector("#agents-table")
        boss.keyboard.press("3")
        boss.wait_for_selector("#crews-table >> text=西湖抢修一班")
        boss.screenshot(path=str(ARTIFACTS / "supervisor-repair-board.png"))
    finally:
        context.close()
