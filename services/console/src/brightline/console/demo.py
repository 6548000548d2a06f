"""`python -m brightline.console.demo`: demo data and a gentle traffic simulator, so a newcomer
opening the console sees a living hotline. Started by `make run`; DEMO_SIMULATOR=0 seeds only.

Everything goes through the services' own integration APIs (adapters/clients.py), with tokens
from the identity provider (the demo import of `make run`, deploy/keycloak/demo-brightline.json:
the demo integration client, the robot agents, the demo supervisor, the crew members):
customers (intake), units, service areas, crews, members and topology (dispatch), departments
(casework). A missing endpoint is a logged warning, never a crash. The simulator rings calls at
intake's CTI webhook as the switch would; two robot agents sit on the console's floor, ready,
and take the calls it offers them on the softphone API as a person does (recording repairs,
consultations, complaints and reports); some callers give up; crews sign in on the mobile API
and work their orders through, and the demo supervisor passes their returns (回单审核)."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import uuid
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx

from brightline.console.adapters.clients import Upstream
from brightline.console.settings import ConsoleSettings
from brightline.platform import clock
from brightline.platform.logging import configure_logging
from brightline.platform.problems import Problem

T = TypeVar("T")

log = logging.getLogger("brightline.console.demo")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "强",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "丽",
    "霞",
    "平",
]
STREETS = ["文三路", "学院路", "莫干山路", "天目山路", "古墩路", "湖墅南路", "余杭塘路", "良渚路"]
AREAS = [  # area code, unit, class, centre
    ("HZ-XH-01", "unit-xihu", "urban", (30.274, 120.130)),
    ("HZ-XH-02", "unit-xihu", "urban", (30.281, 120.112)),
    ("HZ-GS-01", "unit-gongshu", "urban", (30.319, 120.142)),
    ("HZ-YH-01", "unit-yuhang", "rural", (30.388, 120.021)),
    ("HZ-CA-01", "unit-chunan", "remote", (29.609, 119.042)),
]
# What callers and agents call each area: the desk's area list and the outage announcements
# read these, never the codes.
AREA_NAMES = {
    "HZ-XH-01": "西湖文三片区",
    "HZ-XH-02": "西湖古墩片区",
    "HZ-GS-01": "拱墅湖墅片区",
    "HZ-YH-01": "余杭良渚片区",
    "HZ-CA-01": "淳安千岛湖片区",
}
UNITS = {
    "unit-xihu": "西湖供电服务中心",
    "unit-gongshu": "拱墅供电服务中心",
    "unit-yuhang": "余杭乡镇供电所",
    "unit-chunan": "淳安山区供电所",
}
CREWS = [
    ("crew-xh-1", "unit-xihu", "西湖抢修一班"),
    ("crew-xh-2", "unit-xihu", "西湖抢修二班"),
    ("crew-gs-1", "unit-gongshu", "拱墅抢修一班"),
    ("crew-yh-1", "unit-yuhang", "余杭抢修班"),
    ("crew-ca-1", "unit-chunan", "淳安抢修班"),
]
DEPARTMENTS = [
    ("dept-service", "客户服务中心", ["complaint", "opinion", "suggestion", "praise"]),
    ("dept-marketing", "营销部", ["complaint", "suggestion", "opinion"]),
    ("dept-audit", "纪检监察室", ["report"]),
]
BUSINESS_DEPARTMENT = "dept-marketing"


def department_for(case: dict) -> str | None:
    """Where the demo supervisor transfers a case: never back to the department that returned
    it (回退), which said it is not its own."""
    returned_by = (case.get("returned") or {}).get("department_id")
    if (
        case["case_type"] == "complaint"
        and case.get("complaint_subtype") == "business"
        and returned_by != BUSINESS_DEPARTMENT
    ):
        return BUSINESS_DEPARTMENT
    return next(
        (d[0] for d in DEPARTMENTS if case["case_type"] in d[2] and d[0] != returned_by), None
    )


def left_to_the_robot(
    orders: list[dict], now: datetime, after: timedelta, *, since: str, waiting: str
) -> list[dict]:
    """What a crew handed in that the demo supervisor answers: the returns it passes (回单审核;
    since `returned_at`, while `awaiting_review`), the requests to cancel it grants (申请撤单;
    since `cancel_requested_at`, while `cancel_requested`). Only those still waiting that have
    waited `after`, so a person at the dispatcher board has those minutes to answer first; a
    return sent back and returned again (a request refused and asked again) waits from the
    latest."""
    return [
        o
        for o in orders
        if o.get(waiting, True) and o.get(since) and now - datetime.fromisoformat(o[since]) >= after
    ]


# What a demo crew sometimes finds on the way (the demo supervisor grants it after a while).
DEMO_CANCEL_REASON = "客户来电告知已自行恢复供电"


# The demo import's passwords (deploy/keycloak/demo-brightline.json; make run only).
DEMO_PASSWORD = "brightline-demo"
CREW_PASSWORD = "crew-demo-2468"
DEMO_CLIENT = "demo-integration"
DEMO_CLIENT_SECRET = os.environ.get("DEMO_INTEGRATION_SECRET", "demo-integration-secret")
SERVICE_SCOPES = "intake dispatch casework callback sla_monitor"


class DemoIdentity:
    """Tokens for the demo from the identity provider's token endpoint."""

    def __init__(self, issuer: str) -> None:
        self.endpoint = f"{issuer.rstrip('/')}/protocol/openid-connect/token"

    async def _token(self, form: dict) -> str:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(self.endpoint, data=form)
        response.raise_for_status()
        return response.json()["access_token"]

    async def client_token(self) -> str:
        return await self._token(
            {
                "grant_type": "client_credentials",
                "client_id": DEMO_CLIENT,
                "client_secret": DEMO_CLIENT_SECRET,
                "scope": SERVICE_SCOPES,
            }
        )

    async def user_token(self, username: str, password: str) -> str:
        return await self._token(
            {
                "grant_type": "password",
                "client_id": "brightline-demo",
                "username": username,
                "password": password,
            }
        )


ROBOTS = ["robot-2001", "robot-2002"]
REPAIR_TEXT = [
    "家里突然停电了，邻居家也没电",
    "整栋楼都停电了",
    "小区路灯和楼道都没电，听到一声响",
    "电压不稳，灯一闪一闪",
]
# A complaint and its sub-type: a billing one is 营销部's (the demo supervisor transfers it there,
# where a person answers it on the department desk), the others 客户服务中心's (the demo
# caseworker's).
COMPLAINTS = [
    ("抢修人员迟迟不到，已经等了两个多小时", "outage"),
    ("电费账单金额异常，比上月高很多", "business"),
    ("营业厅工作人员态度不好", "service"),
]
# A report (举报) and whom it names: the caller's identity is kept from everyone but the handling
# department and the supervisor.
REPORTS = [
    ("举报抄表员上门抄表时索要好处费", "抄表员王某"),
    ("举报营业厅工作人员违规为他人办理用电业务", "营业厅柜员"),
]
# A consultation and the answer the agent gives on the spot (the ticket is completed with it).
CONSULTATIONS = {
    "咨询阶梯电价怎么计算": "居民阶梯电价按年用电量分三档计价，具体档位和电价以当地政策为准，"
    "您也可以在网上国网App查看。",
    "咨询如何办理峰谷电": "您可以携带身份证到营业厅或通过网上国网App申请峰谷分时电价，"
    "办理后从下一个抄表周期起执行。",
    "咨询停电计划": "计划停电会提前7天公告，您可以在网上国网App或供电营业厅查询所在区域的停电计划。",
}


def customers(rng: random.Random) -> list[dict]:
    rows = []
    for i in range(40):
        code, _, _, _ = AREAS[i % len(AREAS)]
        rows.append(
            {
                "customer_id": f"33{i:08d}",
                "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                "phones": [f"139{rng.randrange(10**8):08d}"],
                "address": f"杭州市{rng.choice(STREETS)}{rng.randrange(1, 400)}号{rng.randrange(1, 20)}幢{rng.randrange(1, 6)}单元",
                "area_code": code,
                "meter_no": f"M{i:07d}",
                "sensitive": i % 17 == 0,
            }
        )
    return rows


class Demo:
    def __init__(
        self,
        settings: ConsoleSettings,
        *,
        console_url: str = "http://127.0.0.1:8000",
        seed: int | None = None,
        identity=None,
        robot_reaction: tuple[float, float] = (2.0, 9.0),
    ) -> None:
        self.settings = settings
        self.up = Upstream.from_settings(settings)
        self.up.urls["console"] = console_url  # the robots' softphone: the console's own API
        self.rng = random.Random(seed)
        # Where tokens come from: the identity provider's demo users and clients (make run).
        self.identity = identity or DemoIdentity(settings.resolved_issuer())
        self.integration = ""  # seeds every service, plays the switch
        self.supervisor = ""
        self.caseworker = ""
        self.robots: dict[str, str] = {}
        self.customers = customers(self.rng)
        self.crew_tokens: dict[str, str] = {}
        # Seconds a robot takes to answer a call ringing at it (past the console's ring limit,
        # 8 s, the call moves on to the next ready seat).
        self.robot_reaction = robot_reaction
        self.robots_busy: set[str] = set()
        self.robot_tasks: set[asyncio.Task] = set()
        self.impatient: dict[str, datetime] = {}  # call → when its caller gives up

    async def fresh_tokens(self) -> None:
        """Tokens live minutes: take new ones (and let crews sign in again)."""
        self.integration = await self.identity.client_token()
        self.supervisor = await self.identity.user_token("demo-supervisor", DEMO_PASSWORD)
        self.caseworker = await self.identity.user_token("cw-demo", DEMO_PASSWORD)
        self.robots = {r: await self.identity.user_token(r, DEMO_PASSWORD) for r in ROBOTS}
        self.crew_tokens.clear()

    async def attempt(self, what: str, coro: Awaitable[T]) -> T | None:
        try:
            return await coro
        except Problem as problem:
            log.warning(
                "demo: %s skipped (%s %s: %s)", what, problem.status, problem.title, problem.detail
            )
        except Exception as error:  # noqa: BLE001 - a demo step must never stop the demo
            log.warning("demo: %s skipped (%s)", what, error)
        return None

    # ------------------------------------------------------------------ seed
    async def seed(self) -> None:
        up, it = self.up, self.integration
        await self.attempt("customers", up.import_customers(it, self.customers))
        for unit_id, name in UNITS.items():
            await self.attempt(f"unit {unit_id}", up.put_unit(it, unit_id, name))
        await self.attempt(
            "service areas",
            up.put_service_areas(
                it,
                [
                    {"area_code": c, "unit_id": u, "area_class": k, "name": AREA_NAMES[c]}
                    for c, u, k, _ in AREAS
                ],
            ),
        )
        transformers = [{"transformer_id": f"T-{c}", "feeder_id": f"F-{u}"} for c, u, _, _ in AREAS]
        meters = [
            {"meter_no": c["meter_no"], "transformer_id": f"T-{c['area_code']}"}
            for c in self.customers
        ]
        await self.attempt("topology", up.put_topology(it, transformers, meters))
        for crew_id, unit_id, name in CREWS:
            if (
                await self.attempt(f"crew {crew_id}", up.put_crew(it, crew_id, unit_id, name))
                is None
            ):
                continue
            await self.attempt(
                f"crew member of {crew_id}",
                up.put_crew_member(it, crew_id, f"{crew_id}-m1", name + "队员"),
            )
            await self.attempt(f"duty of {crew_id}", up.put_crew_duty(it, crew_id, True))
        for dept_id, name, types in DEPARTMENTS:
            await self.attempt(
                f"department {dept_id}",
                up.put_department(it, dept_id, {"name": name, "case_types": types}),
            )
        log.info("demo: seed done")

    # ------------------------------------------------------------------ traffic
    async def ring(self) -> str | None:
        """A call rings at the switch (intake's CTI webhook); its id, None if refused."""
        known = self.rng.random() < 0.8
        number = (
            self.rng.choice(self.customers)["phones"][0]
            if known
            else f"137{self.rng.randrange(10**8):08d}"
        )
        call_id = f"demo-{uuid.uuid4().hex[:10]}"
        now = clock.now()
        ack = await self.attempt(
            "ring",
            self.up.cti_event(
                self.integration,
                {
                    "event": "newCall",
                    "callId": call_id,
                    "timestamp": now.isoformat(),
                    "callerNumber": number,
                    "calledNumber": "95598",
                    "queue": self.rng.choice(["95598", "95598", "95598-repair"]),
                },
            ),
        )
        if ack is None:
            return None
        if self.rng.random() < 0.15:  # a caller who gives up if not answered soon
            self.impatient[call_id] = now + timedelta(seconds=self.rng.uniform(4, 20))
        return call_id

    # The robots work the console's floor as the people on it do: seated and ready, offered the
    # calls in turn (longest idle first), each answered on the softphone after a moment, hung
    # up, wrapped up. So the floor, the supervisor desk and the wallboard count them, and a
    # person who signs in and goes ready shares the calls with them.
    async def desk(self, robot: str, method: str, path: str, body: dict | None = None) -> Any:
        return await self.up.json("console", method, path, self.robots[robot], json=body)

    async def robots_at_desk(self) -> None:
        """Each robot not on a call looks at its desk: a call ringing at it is taken after a
        moment (most within the ring limit, now and then one rings out and moves on); a seat
        that is not ready (signed out, or made not ready by a call that rang out) goes ready."""
        for robot in ROBOTS:
            if robot in self.robots_busy:
                continue
            state = await self.attempt(
                f"{robot}'s desk", self.desk(robot, "GET", "/api/desk/state")
            )
            if state is None:
                continue
            seat, offer = state["seat"], state.get("offer")
            if seat["state"] == "ringing" and offer:
                self.robots_busy.add(robot)
                task = asyncio.create_task(
                    self.robot_take(robot, offer, reaction=self.rng.uniform(*self.robot_reaction))
                )
                self.robot_tasks.add(task)
                task.add_done_callback(self.robot_tasks.discard)
            elif seat["state"] == "wrap_up":  # a call it left unfinished (the demo restarted)
                await self.attempt(
                    f"{robot} wrap-up",
                    self.desk(robot, "POST", "/api/desk/wrap-up", {"code": "dropped"}),
                )
            elif seat["state"] in ("offline", "not_ready"):
                await self.attempt(
                    f"{robot} ready", self.desk(robot, "PUT", "/api/desk/state", {"state": "ready"})
                )

    async def offered_to_a_robot(self, call_id: str) -> tuple[str, dict] | None:
        """The robot the floor offers `call_id` to, and the offer; None while none has it."""
        for robot in ROBOTS:
            state = await self.attempt(
                f"{robot}'s desk", self.desk(robot, "GET", "/api/desk/state")
            )
            offer = (state or {}).get("offer")
            if offer and offer["call_id"] == call_id:
                return robot, offer
        return None

    async def robot_take(
        self, robot: str, offer: dict, *, reaction: float = 0.0, kind: str | None = None
    ) -> dict | None:
        """The robot answers the call offered to it after `reaction` seconds, records a ticket
        (about `kind`, or one drawn from the demo's mix), hangs up and wraps up. The ticket
        recorded, if any; None when the call moved on before it was answered."""
        try:
            return await self._take(robot, offer, reaction, kind)
        finally:
            self.robots_busy.discard(robot)

    async def _take(self, robot: str, offer: dict, reaction: float, kind: str | None):
        await asyncio.sleep(reaction)
        call_id = offer["call_id"]
        try:
            await self.desk(robot, "POST", f"/api/agent/calls/{call_id}/answer")
        except Problem as problem:
            if problem.status != 409:
                log.warning("demo: %s answer skipped (%s)", robot, problem.detail)
            # 409: it rang out at this seat and moved on, or the caller gave up: as meant.
            return None
        except Exception as error:  # noqa: BLE001 - a demo step must never stop the demo
            log.warning("demo: %s answer skipped (%s)", robot, error)
            return None
        self.impatient.pop(call_id, None)
        token = self.robots[robot]
        number = offer.get("caller_number")
        customer = next((c for c in self.customers if number in c["phones"]), None)
        kind = (
            kind
            or self.rng.choices(
                ["repair", "consultation", "complaint", "report"], weights=[5, 3, 2, 1]
            )[0]
        )
        body: dict = {
            "ticket_type": kind,
            "call_id": call_id,
            "phone": number,
            "caller_name": (customer or {}).get("name") or "客户",
        }
        if customer:
            body.update(
                customer_id=customer["customer_id"],
                address=customer["address"],
                area_code=customer["area_code"],
                meter_no=customer["meter_no"],
            )
        else:
            body["address"] = f"杭州市{self.rng.choice(STREETS)}{self.rng.randrange(1, 400)}号"
            # The agent asks for the district and picks its service area; now and then a caller
            # cannot say, and the order waits for the dispatcher to route it (robot_route).
            if self.rng.random() < 0.9:
                body["area_code"] = self.rng.choice(AREAS)[0]
        if kind == "repair":
            if customer:  # where the customer system's map puts the customer (their area)
                lat, lon = next(a[3] for a in AREAS if a[0] == customer["area_code"])
                body.update(
                    latitude=round(lat + self.rng.uniform(-0.01, 0.01), 5),
                    longitude=round(lon + self.rng.uniform(-0.01, 0.01), 5),
                )
            body.update(
                description=self.rng.choice(REPAIR_TEXT),
                fault_scope=self.rng.choice(["building", "area"]),
                fault_started_at=(
                    clock.now() - timedelta(minutes=self.rng.randrange(5, 60))
                ).isoformat(),
            )
        elif kind == "complaint":
            description, subtype = self.rng.choice(COMPLAINTS)
            body.update(
                description=description,
                complaint_subtype=subtype,
                complaint_grade="general",
            )
        elif kind == "report":  # 举报: 纪检监察室's, answered by a person on the department desk
            description, reported_party = self.rng.choice(REPORTS)
            body.update(description=description, reported_party=reported_party)
        else:
            body["description"] = self.rng.choice(list(CONSULTATIONS))
        ticket = await self.attempt(
            "robot ticket", self.up.record_ticket(token, body, f"demo-{call_id}")
        )
        if kind == "consultation" and ticket and ticket.get("ticket_type") == "consultation":
            # Answered on the spot, as an agent completes it on the desk: left recorded, it
            # stayed open for ever and filled callers' cards with 在办 consultations.
            await self.attempt(
                "robot reply",
                self.up.complete_ticket(
                    token, ticket["id"], {"reply": CONSULTATIONS[body["description"]]}
                ),
            )
        await asyncio.sleep(self.rng.uniform(2, 6))
        await self.attempt(
            f"{robot} hangup", self.desk(robot, "POST", f"/api/agent/calls/{call_id}/hangup")
        )
        code = "information_given" if kind == "consultation" else "ticket_recorded"
        await self.attempt(
            f"{robot} wrap-up", self.desk(robot, "POST", "/api/desk/wrap-up", {"code": code})
        )
        return ticket

    async def callers_give_up(self) -> None:
        """A caller whose patience ran out before anyone answered hangs up (abandoned)."""
        for call_id, give_up_at in list(self.impatient.items()):
            if clock.now() < give_up_at:
                continue
            del self.impatient[call_id]
            call = await self.attempt("call state", self.up.get_call(self.integration, call_id))
            if call is None or call.get("state") != "ringing":
                continue
            await self.attempt(
                "abandon",
                self.up.cti_event(
                    self.integration,
                    {
                        "event": "hangup",
                        "callId": call_id,
                        "timestamp": clock.now().isoformat(),
                        "cause": "abandoned",
                    },
                ),
            )

    async def robot_route(self, after: timedelta = timedelta(minutes=3)) -> None:
        """The demo supervisor routes the orders nobody could route once they waited `after`:
        long enough for a person on the dispatcher board to do it first."""
        queue = await self.attempt("routing queue", self.up.needs_routing(self.supervisor))
        for order in queue or []:
            if clock.now() - datetime.fromisoformat(order["created_at"]) < after:
                continue
            area_code, unit_id, area_class, _ = self.rng.choice(AREAS)
            await self.attempt(
                "route",
                self.up.dispatch_write(
                    self.supervisor,
                    "PUT",
                    f"/work-orders/{order['id']}/routing",
                    {
                        "unit_id": unit_id,
                        "area_class": area_class,
                        "reason": f"演示：按客户所述地址分派至{AREA_NAMES[area_code]}",
                    },
                ),
            )

    async def robot_review(self, after: timedelta = timedelta(minutes=2)) -> None:
        """The demo supervisor passes the crews' returns once they waited `after` (a person at
        the dispatcher board has those minutes to review, or send one back, first)."""
        waiting = await self.attempt(
            "returns awaiting review",
            self.up.work_orders(self.supervisor, status="awaiting_review", limit=100),
        )
        passable = left_to_the_robot(
            waiting or [], clock.now(), after, since="returned_at", waiting="awaiting_review"
        )
        for order in passable:
            await self.attempt(
                "return approval",
                self.up.dispatch_write(
                    self.supervisor,
                    "POST",
                    f"/work-orders/{order['id']}/return-approval",
                    {"note": "演示：值班长审核通过"},
                ),
            )

    async def robot_cancel_requests(self, after: timedelta = timedelta(minutes=2)) -> None:
        """The demo supervisor grants the crews' requests to cancel once they waited `after` (a
        person at the dispatcher board has those minutes to answer, or refuse, first)."""
        waiting = await self.attempt(
            "requests to cancel",
            self.up.work_orders(self.supervisor, status="cancel_requested", limit=100),
        )
        grantable = left_to_the_robot(
            waiting or [],
            clock.now(),
            after,
            since="cancel_requested_at",
            waiting="cancel_requested",
        )
        for order in grantable:
            await self.attempt(
                "cancellation",
                self.up.dispatch_write(
                    self.supervisor,
                    "POST",
                    f"/work-orders/{order['id']}/cancellation",
                    {"reason": order.get("cancel_reason") or DEMO_CANCEL_REASON},
                ),
            )

    async def robot_transfer(self, after: timedelta = timedelta(minutes=3)) -> None:
        """The demo supervisor transfers the cases no department holds once they waited `after`
        (a person on the supervisor desk has those minutes to do it first): a business
        complaint (营业: billing, metering) to 营销部, anything else to the first department
        that handles the case's type."""
        for status in ("opened", "reopened"):
            waiting = await self.attempt("cases", self.up.cases(self.supervisor, status=status))
            for case in waiting or []:
                # A returned case waits from its return.
                since = (case.get("returned") or {}).get("at") or case["opened_at"]
                if clock.now() - datetime.fromisoformat(since) < after:
                    continue
                department = department_for(case)
                if department is None:
                    continue
                await self.attempt(
                    "transfer",
                    self.up.transfer_case(
                        self.supervisor,
                        case["id"],
                        {"department_id": department, "note": "演示：值班长转派"},
                    ),
                )

    async def robot_department(self, after: timedelta = timedelta(minutes=2)) -> None:
        """The demo's caseworker (客户服务中心) accepts what was transferred to it and replies a
        while later; the robot agent who took the call answers the customer with any
        department's reply (首问负责制: 营销部's and 纪检监察室's come from a person on the
        department desk); the callback robots then close the loop."""
        for status, step, body in (
            ("transferred", "accept", None),
            (
                "accepted",
                "reply",
                {"text": "经核实，已向相关人员了解情况并完成整改，感谢您的监督。"},
            ),
        ):
            held = await self.attempt(
                "department cases", self.up.cases(self.caseworker, status=status)
            )
            for case in held or []:
                if clock.now() - datetime.fromisoformat(case["opened_at"]) < after:
                    continue
                await self.attempt(
                    f"case {step}", self.up.case_step(self.caseworker, case["id"], step, body)
                )
        for robot, token in self.robots.items():
            replied = await self.attempt(
                "replied cases", self.up.cases(token, first_ask_owner=robot, status="replied")
            )
            for case in replied or []:
                await self.attempt(
                    "case answer",
                    self.up.case_step(
                        token,
                        case["id"],
                        "answer",
                        {"text": "您反映的问题已处理完毕，处理结果已告知，感谢您的来电。"},
                    ),
                )

    async def robot_callback(self) -> None:
        """A robot calls back the customer of the oldest callback due: most are satisfied, a few
        cannot be reached (the task stays for another attempt), now and then one is not."""
        robot = self.rng.choice(ROBOTS)
        token = self.robots[robot]
        assigned = await self.attempt("callback", self.up.next_callback(token))
        if not assigned:
            return
        outcome = self.rng.choices(
            ["satisfied", "basically_satisfied", "unreachable", "unsatisfied"],
            weights=[80, 10, 8, 2],
        )[0]
        body = {"outcome": outcome}
        if outcome == "unsatisfied":
            body["reason"] = "客户表示问题仍未解决"
        task_id = assigned["task"]["id"]
        await self.attempt(
            "callback outcome",
            self.up.callback_outcome(
                token, task_id, body, f"demo-{task_id}-{uuid.uuid4().hex[:6]}"
            ),
        )

    async def crews_move(self) -> None:
        for crew_id, _, _ in CREWS:
            token = self.crew_tokens.get(crew_id)
            if token is None:
                token = await self.attempt(
                    f"crew sign-in {crew_id}",
                    self.identity.user_token(f"{crew_id}-m1", CREW_PASSWORD),
                )
                if token is None:
                    continue
                self.crew_tokens[crew_id] = token
            page = await self.attempt(f"orders of {crew_id}", self.up.crew_orders(token))
            if page is None:
                self.crew_tokens.pop(crew_id, None)
                continue
            centre = next(
                a[3] for a in AREAS if a[1] == next(c[1] for c in CREWS if c[0] == crew_id)
            )
            for order in page.get("items", []):
                if order.get("cancel_requested"):
                    continue  # the crew waits for the dispatcher's answer
                if order.get("status") == "en_route" and self.rng.random() < 0.15:
                    # Now and then the customer's power is back before the crew arrives.
                    await self.attempt(
                        f"{crew_id} asks to cancel",
                        self.up.crew_step(
                            token, order["id"], "cancellation", {"reason": DEMO_CANCEL_REASON}
                        ),
                    )
                    continue
                nxt = order.get("allowed_next") or []
                lat = (order.get("latitude") or centre[0]) + self.rng.uniform(-0.002, 0.002)
                lon = (order.get("longitude") or centre[1]) + self.rng.uniform(-0.002, 0.002)
                step: dict[str, tuple[str, dict[str, Any]]] = {
                    "accepted": ("accept", {}),
                    "en_route": ("en-route", {}),
                    "on_site": ("on-site", {"latitude": lat, "longitude": lon}),
                    "resolved": (
                        "resolution",
                        {
                            "cause": self.rng.choice(
                                ["低压线路接头烧断", "表箱开关故障", "变压器保险熔断"]
                            )
                        },
                    ),
                    "returned": ("return", {}),
                }
                for status in nxt:
                    if status in step and self.rng.random() < 0.5:
                        action, body = step[status]
                        await self.attempt(
                            f"{crew_id} {action}",
                            self.up.crew_step(token, order["id"], action, body),
                        )
                        break
            await self.attempt(
                f"{crew_id} position",
                self.up.crew_position(
                    token,
                    centre[0] + self.rng.uniform(-0.01, 0.01),
                    centre[1] + self.rng.uniform(-0.01, 0.01),
                ),
            )

    async def simulate(
        self,
        *,
        ring_every: float = 25.0,
        callback_every: float = 40.0,
    ) -> None:
        """Calls every `ring_every` seconds or so, offered by the console's floor to the robots
        (and to any person signed in and ready) in turn; some callers give up. Robots also call
        customers back, one every `callback_every` seconds or so; the demo supervisor routes the
        orders, passes the crews' returns and transfers the cases left waiting a few minutes,
        and the demo caseworker accepts, replies to and answers what its department holds."""
        log.info("demo: traffic simulator running (DEMO_SIMULATOR=0 switches it off)")
        next_ring = 0.0
        next_crews = 0.0
        next_callback = 0.0
        next_tokens = asyncio.get_running_loop().time() + 240
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            await self.robots_at_desk()
            if now >= next_ring:
                await self.ring()
                next_ring = now + self.rng.uniform(0.5, 1.5) * ring_every
            await self.callers_give_up()
            if now >= next_crews:
                await self.crews_move()
                await self.robot_route()
                await self.robot_review()
                await self.robot_cancel_requests()
                await self.robot_transfer()
                await self.robot_department()
                next_crews = now + 20
            if now >= next_callback:
                await self.robot_callback()
                next_callback = now + self.rng.uniform(0.5, 1.5) * callback_every
            if now >= next_tokens:
                await self.attempt("fresh tokens", self.fresh_tokens())
                next_tokens = now + 240
            await asyncio.sleep(1)


async def main() -> None:
    settings = ConsoleSettings()
    configure_logging("console-demo", level=settings.log_level, json=settings.log_json)
    demo = Demo(settings, console_url=os.environ.get("DEMO_CONSOLE_URL", "http://127.0.0.1:8000"))
    try:
        await demo.fresh_tokens()
        await demo.seed()
        if os.environ.get("DEMO_SIMULATOR", "1") != "0":
            await demo.simulate()
    finally:
        await demo.up.close()


if __name__ == "__main__":
    asyncio.run(main())
