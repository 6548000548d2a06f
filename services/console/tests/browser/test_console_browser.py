"""What `make run` starts, in Debian's Chromium against the real services (each its own process
on the real broker and database): the demo seeds through the services' integration APIs, its
traffic flows, and its crews reach the dispatcher board. The agent's call, the supervisor's floor,
the wallboard and the dispatcher board's acts have their own tests (test_agent_desk.py,
test_wallboard.py, test_dispatch_board.py). Screenshots go to test-artifacts/console/."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from brightline.platform.auth import Role
from brightline.platform.local.paths import free_port
from brightline.platform.local.progress import wait_ready_by_progress
from brightline.platform.testing import ServiceProcess, bearer

from .desk_browser import ARTIFACTS, shoot, sign_in

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
        # The test answers every offer however busy the machine; ringing out has its own test; a
        # seat they leave alone stays on the floor (losing its desk has its own test, too).
        "CONSOLE_RING_NO_ANSWER_SECONDS": "60",
        "CONSOLE_DESK_LOST_SECONDS": "600",
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
            wait_ready_by_progress(proc)
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


def test_demo_seeds_through_the_services_and_its_traffic_reaches_the_board(stack, browser):
    """What `make run` starts: demo data through the integration APIs (casework is not running
    here: its departments are skipped with a warning), calls rung by the simulator and offered
    by the console's floor to the robot agents seated on it, who answer them on the softphone
    API and record tickets, and crews signed in on the mobile API."""
    import asyncio

    from brightline.console.demo import CONSULTATIONS, CREWS, ROBOTS, UNITS, Demo
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
            if username == "cw-demo":  # as the demo import has it: a caseworker of a department
                return token(
                    bearer(Role.CASEWORKER, subject=username, department_id="dept-service")
                )
            role = Role.SUPERVISOR if username == "demo-supervisor" else Role.AGENT
            return token(bearer(role, subject=username, staff_no=username[-4:]))

    def token(headers: dict) -> str:
        return headers["Authorization"].split(" ", 1)[1]

    demo = Demo(settings, console_url=stack["console"], seed=7, identity=SessionIdentity())

    async def run() -> tuple[str, str, dict]:
        try:
            await demo.fresh_tokens()
            await demo.seed()
            await demo.robots_at_desk()  # the robots take their seats on the floor, ready

            async def offered(call_id: str | None) -> tuple[str, dict]:
                assert call_id is not None, "the switch's call was refused"
                for _ in range(240):  # the floor hears of the call through the state feed
                    if found := await demo.offered_to_a_robot(call_id):
                        return found
                    await asyncio.sleep(0.5)
                raise AssertionError(f"call {call_id} was never offered to a robot")

            call_id = await demo.ring()
            robot, offer = await offered(call_id)
            assert await demo.robot_take(robot, offer) is not None
            # A consultation is answered on the spot: the robot completes it with its answer.
            asked = await demo.ring()
            robot, offer = await offered(asked)
            consultation = await demo.robot_take(robot, offer, kind="consultation")
            await demo.robot_callback()  # none due yet: the robot finds nothing and goes on
            await demo.crews_move()
            # A repair from a caller who could not say the district waits for the dispatcher;
            # the demo supervisor routes what waited long enough (here: at once).
            stray = await demo.up.record_ticket(
                demo.robots[ROBOTS[0]],
                {
                    "ticket_type": "repair",
                    "phone": "13700000001",
                    "caller_name": "客户",
                    "address": "杭州市某路1号",
                    "description": "家里没电了",
                    "fault_scope": "building",
                    "fault_started_at": datetime.now(UTC).isoformat(),
                },
                "demo-stray",
            )
            for _ in range(240):
                if [
                    o
                    for o in await demo.up.needs_routing(demo.supervisor)
                    if o["ticket_id"] == stray["id"]
                ]:
                    break
                await asyncio.sleep(0.5)
            await demo.robot_route(after=timedelta(0))
            return call_id, stray["id"], consultation
        finally:
            await demo.up.close()

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        call_id, stray_id, consultation = pool.submit(asyncio.run, run()).result()
    assert set(demo.crew_tokens) == {c[0] for c in CREWS}  # every crew member could sign in
    staff = bearer(Role.SUPERVISOR, subject="super-9001")
    # The robots worked the floor as agents do: the supervisor's floor counts them, each call
    # answered once, both seats ready again after their wrap-up.
    seats = {
        a["agent_id"]: a
        for a in httpx.get(f"{stack['console']}/api/supervisor/floor", headers=staff).json()[
            "agents"
        ]
    }
    assert {r: seats[r]["state"] for r in ROBOTS} == dict.fromkeys(ROBOTS, "ready")
    assert sum(seats[r]["answered_today"] for r in ROBOTS) == 2
    answered = httpx.get(
        f"{stack['intake']}/tickets/{consultation['id']}", headers=staff, timeout=10
    ).json()
    assert answered["ticket_type"] == "consultation" and answered["status"] == "completed"
    assert answered["details"]["answer"] in CONSULTATIONS.values()
    [routed] = httpx.get(
        f"{stack['dispatch']}/work-orders", params={"ticket_id": stray_id}, headers=staff
    ).json()
    assert not routed["needs_routing"] and routed["unit_id"] in UNITS
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

    # Every crew that sent a position is a point on the dispatcher board's map.
    placed = [c for c in crews if c["latitude"] is not None and c["longitude"] is not None]
    assert len(placed) >= len(CREWS)
    context, boss = sign_in(browser, stack["console"], "super-9001", path="/dispatch")
    try:
        boss.wait_for_selector(f"[data-test=dispatch-map][data-crews='{len(placed)}'] svg")
        shoot(boss, "dispatch-board-demo")
    except Exception:
        boss.screenshot(path=str(ARTIFACTS / "failure-dispatch-board-demo.png"))
        raise
    finally:
        context.close()
