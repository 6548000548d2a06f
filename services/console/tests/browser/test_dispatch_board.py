"""The dispatcher board in Debian's Chromium against the real services (intake, dispatch and the
console, each its own OS process on the real broker and database): a 50-call storm under one
transformer shows as one incident on the coordinate map and as one topology graph (feeder →
transformer → 50 calls), and the supervisor restores it from the board; a crew's return waits
for the dispatcher's review (回单审核), is sent back to the crew with a reason and passed once
returned again. Screenshots at 1366×768 and 1920×1080 on every run."""

from __future__ import annotations

import base64
import os
import struct
import time
import uuid
import zlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from brightline.platform.auth import Role
from brightline.platform.local.paths import free_port
from brightline.platform.local.progress import wait_ready_by_progress
from brightline.platform.testing import ServiceProcess, bearer

from .desk_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, shoot, sign_in, untranslated

# The bound covers starting Kafka, Keycloak and three services and a 50-call storm.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

GIS = bearer(Role.INTEGRATION, subject="gis")
SUPERVISOR = bearer(Role.SUPERVISOR, subject="super-9001")
AGENT = bearer(Role.AGENT, subject="agent-3001")
UNIT, AREA, TRANSFORMER = "unit-east", "EAST-01", "T-EAST-7"
SITE = (31.2304, 121.4737)
STORM = 50


@pytest.fixture(scope="module")
def stack(kafka_bootstrap, postgres_server, topic_prefix, tmp_path_factory):
    logs = tmp_path_factory.mktemp("dispatch-board-logs")
    suffix = uuid.uuid4().hex[:8]
    names = ("intake", "dispatch", "console")
    ports = {name: free_port() for name in names}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": postgres_server,
        "KAFKA_TOPIC_PREFIX": topic_prefix,
        "LOG_JSON": "false",
        "INTAKE_DATABASE_NAME": f"test_intake_{suffix}",
        "DISPATCH_DATABASE_NAME": f"test_dispatch_{suffix}",
        "CONSOLE_DATABASE_NAME": f"test_console_{suffix}",
        # The test answers every offer however busy the machine; ringing out has its own test; a
        # seat they leave alone stays on the floor (losing its desk has its own test, too).
        "CONSOLE_RING_NO_ANSWER_SECONDS": "60",
        "CONSOLE_DESK_LOST_SECONDS": "600",
        "CONSOLE_INTAKE_URL": url["intake"],
        "CONSOLE_DISPATCH_URL": url["dispatch"],
        # Not started: the dispatcher board reads none of them.
        "CONSOLE_CASEWORK_URL": "http://127.0.0.1:9",
        "CONSOLE_CALLBACK_URL": "http://127.0.0.1:9",
        "CONSOLE_SLA_URL": "http://127.0.0.1:9",
    }
    procs = [ServiceProcess(name, ports[name], env, logs) for name in names]
    for proc in procs:
        proc.start()
    try:
        for proc in procs:
            wait_ready_by_progress(proc)
        yield url
    finally:
        for proc in procs:
            proc.stop()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: run deploy/browser/install-chromium.sh (make setup does)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def ok(response: httpx.Response, *codes: int):
    assert response.status_code in (codes or (200,)), (response.status_code, response.text)
    return response.json() if response.content else None


def until(check, timeout: float = 180.0, what: str = "the storm never became one incident"):
    """Poll until the services have passed the events along (Kafka lies between them)."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.5)
    return value


def seed(dispatch: str, meters: list[str]) -> None:
    """A repair unit with one crew on duty at its position, its area, and the grid topology."""
    ok(httpx.put(f"{dispatch}/units/{UNIT}", json={"name": "东区抢修班"}, headers=GIS))
    areas = [{"area_code": AREA, "unit_id": UNIT, "area_class": "urban", "name": "幸福里"}]
    ok(httpx.put(f"{dispatch}/service-areas", json={"areas": areas}, headers=GIS))
    crew = f"{UNIT}-crew-1"
    ok(
        httpx.put(
            f"{dispatch}/crews/{crew}", json={"unit_id": UNIT, "name": "抢修一队"}, headers=GIS
        )
    )
    position = {"latitude": SITE[0] + 0.01, "longitude": SITE[1] + 0.01}
    ok(httpx.put(f"{dispatch}/crews/{crew}/position", json=position, headers=GIS))
    ok(httpx.put(f"{dispatch}/crews/{crew}/duty", json={"on_duty": True}, headers=SUPERVISOR))
    topology = {
        "transformers": [{"transformer_id": TRANSFORMER, "feeder_id": "F-EAST-1"}],
        "meters": [{"meter_no": m, "transformer_id": TRANSFORMER} for m in meters],
    }
    ok(httpx.put(f"{dispatch}/topology", json=topology, headers=GIS, timeout=30))


def call(intake: str, meter: str, area: str = AREA) -> dict:
    body = {
        "ticket_type": "repair",
        "description": "整栋楼没电了",
        "caller_name": "张三丰",
        "phone": f"139{int(meter[-3:]):08d}",
        "address": f"幸福里{meter[-3:]}号",
        "area_code": area,
        "fault_scope": "building",
        "fault_started_at": datetime.now(UTC).isoformat(),
        "meter_no": meter,
        "latitude": SITE[0],
        "longitude": SITE[1],
    }
    return ok(httpx.post(f"{intake}/tickets", json=body, headers=AGENT, timeout=30), 201)


def incidents(dispatch: str) -> list[dict]:
    found = ok(httpx.get(f"{dispatch}/outages", headers=SUPERVISOR, timeout=30))
    return [i for i in found if i["transformer_id"] == TRANSFORMER]


def test_a_storm_is_one_incident_on_the_map_and_graph_and_is_restored_from_the_board(
    stack, browser
):
    meters = [f"M-EAST7-{i:03d}" for i in range(STORM)]
    seed(stack["dispatch"], meters)
    # The first call declares the incident; once intake has heard of it the rest are linked.
    storm = [call(stack["intake"], meters[0])]
    until(
        lambda: ok(
            httpx.get(
                f"{stack['intake']}/greetings",
                params={"area_code": AREA, "staff_no": "1001"},
                headers=AGENT,
            )
        )["announcements"]
    )
    storm += [call(stack["intake"], m) for m in meters[1:]]
    ids = {t["id"] for t in storm}
    incident = until(
        lambda: [i for i in incidents(stack["dispatch"]) if set(i["linked_ticket_ids"]) == ids]
    )[0]

    context, page = sign_in(browser, stack["console"], "super-9001", path="/dispatch")
    try:
        row = page.locator(f"[data-test=incident][data-transformer='{TRANSFORMER}']")
        row.wait_for(timeout=60_000)
        assert page.locator("[data-test=incident]").count() == 1
        assert f"{STORM} 通来电" in row.inner_text()
        page.wait_for_selector("[data-test=dispatch-map][data-incidents='1'] svg")
        page.wait_for_selector(f"[data-test=dispatch-topology][data-calls='{STORM}'] svg")
        page.locator(
            "[data-test=dispatch-topology] svg text", has_text=f"台区变压器 {TRANSFORMER}"
        ).first.wait_for()
        page.locator(
            "[data-test=dispatch-topology] svg text", has_text="线路 F-EAST-1"
        ).first.wait_for()
        # The picker names the incident drawn, before any pick.
        picker = page.locator("[data-test=dispatch-incident-pick]")
        assert TRANSFORMER in picker.inner_text(), picker.inner_text()
        # The orders go by their 工单号; nothing on the board is a key or a code (the grid's
        # equipment and the area are called by their ids: those are their names).
        numbers = page.locator("[data-test=dispatch-orders] [data-test=order-ticket-no]")
        numbers.first.wait_for()
        assert set(numbers.all_inner_texts()) <= {t["no"] for t in storm}
        assert untranslated(page, "zh-CN", names=(TRANSFORMER, "F-EAST-1", AREA)) == []
        shoot(page, "dispatch-board")
        page.click("[data-test=language]")
        page.wait_for_selector("text=Open work orders")
        assert untranslated(page, "en", names=(TRANSFORMER, "F-EAST-1", AREA)) == []
        shoot(page, "dispatch-board-en")
        page.click("[data-test=language]")
        page.wait_for_selector("text=在途工单")
        # The graph's labels follow the language back too (drawn by a formatter, not a template).
        page.locator(
            "[data-test=dispatch-topology] svg text", has_text=f"台区变压器 {TRANSFORMER}"
        ).first.wait_for()

        # The incident's one order (the other calls are linked to it) shows the time to its
        # arrival limit and the acts its state allows: another crew, until one accepts; cancel.
        lead = page.locator("[data-test=dispatch-orders] tr", has_text=storm[0]["no"])
        assert ":" in lead.locator("[data-test=order-arrival]").inner_text()
        assert lead.locator("[data-test=order-reassign]").count() == 1
        assert lead.locator("[data-test=order-cancel]").count() == 1

        row.locator("[data-test=incident-restore]").click()
        page.fill(
            "input[data-test=act-reason], [data-test=act-reason] input",
            "台区变压器低压熔丝熔断，已更换",
        )
        page.click("[data-test=act-confirm]")
        page.wait_for_selector("[data-test=incident]", state="detached", timeout=60_000)
        restored = ok(
            httpx.get(f"{stack['dispatch']}/outages/{incident['id']}", headers=SUPERVISOR)
        )
        assert restored["status"] == "restored" and restored["restored_by"] == "supervisor"
        # Returned with the incident, the storm's orders leave the open orders.
        page.wait_for_selector("[data-test=order-ticket-no]", state="detached", timeout=60_000)

        # A call from an area no unit serves waits for the dispatcher, who routes it to a unit
        # picked by its name; the unit's crew on duty gets it at once.
        stray = call(stack["intake"], "M-WEST-001", area="WEST-99")
        queued = page.locator("[data-test=needs-routing]", has_text=stray["no"])
        queued.wait_for(timeout=60_000)
        queued.locator("[data-test=order-route]").click()
        page.locator("[data-test=act-unit]").click()
        page.locator(".el-select-dropdown__item:visible", has_text="东区抢修班").first.click()
        page.fill(
            "input[data-test=act-reason], [data-test=act-reason] input", "新建小区，尚未录入台区"
        )
        page.click("[data-test=act-confirm]")
        queued.wait_for(state="detached", timeout=60_000)
        page.locator(
            "[data-test=dispatch-orders] tr", has_text="东区抢修班 · 抢修一队"
        ).first.wait_for()
        routed = ok(
            httpx.get(
                f"{stack['dispatch']}/work-orders",
                params={"ticket_id": stray["id"]},
                headers=SUPERVISOR,
            )
        )[0]
        assert routed["unit_id"] == UNIT and routed["crew_id"] == f"{UNIT}-crew-1"
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "failure-dispatch-board.png"))
        raise
    finally:
        context.close()


# The review test's own unit, area and crew, apart from the storm's.
REVIEW_UNIT, REVIEW_AREA = "unit-south", "SOUTH-01"
REVIEW_CREW, REVIEW_MEMBER = "unit-south-crew-2", "unit-south-crew-2-m1"
REVIEW_SITE = (31.1304, 121.3737)
CREW = bearer(Role.CREW, subject=REVIEW_MEMBER, crew_id=REVIEW_CREW, unit_id=REVIEW_UNIT)


def seed_review_crew(dispatch: str) -> None:
    """A repair unit serving its own area, with one crew on duty near the site and its member."""
    ok(httpx.put(f"{dispatch}/units/{REVIEW_UNIT}", json={"name": "南区抢修班"}, headers=GIS))
    areas = [
        {"area_code": REVIEW_AREA, "unit_id": REVIEW_UNIT, "area_class": "urban", "name": "平安里"}
    ]
    ok(httpx.put(f"{dispatch}/service-areas", json={"areas": areas}, headers=GIS))
    crew = {"unit_id": REVIEW_UNIT, "name": "抢修二队"}
    ok(httpx.put(f"{dispatch}/crews/{REVIEW_CREW}", json=crew, headers=GIS))
    member = f"{dispatch}/crews/{REVIEW_CREW}/members/{REVIEW_MEMBER}"
    ok(httpx.put(member, json={"name": "周师傅"}, headers=GIS))
    position = {"latitude": REVIEW_SITE[0] + 0.01, "longitude": REVIEW_SITE[1] + 0.01}
    ok(httpx.put(f"{dispatch}/crews/{REVIEW_CREW}/position", json=position, headers=GIS))
    ok(
        httpx.put(
            f"{dispatch}/crews/{REVIEW_CREW}/duty", json={"on_duty": True}, headers=SUPERVISOR
        )
    )


def crew_steps(dispatch: str, order_id: str, *steps: tuple[str, dict | None]) -> dict:
    """The crew's phone: each step with its Idempotency-Key and the phone's own clock."""
    at = datetime.now(UTC)
    read: dict = {}
    for i, (path, body) in enumerate(steps):
        headers = {
            **CREW,
            "Idempotency-Key": str(uuid.uuid4()),
            "X-Device-Time": (at + timedelta(milliseconds=10 * i)).isoformat(),
        }
        read = ok(
            httpx.post(
                f"{dispatch}/mobile/orders/{order_id}/{path}",
                json=body,
                headers=headers,
                timeout=30,
            )
        )
    return read


def tiny_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG of one colour (8-bit RGB), the way a phone's photo is a real image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_a_crews_return_is_sent_back_with_a_reason_and_passed_once_returned_again(stack, browser):
    dispatch = stack["dispatch"]
    seed_review_crew(dispatch)
    body = {
        "ticket_type": "repair",
        "description": "家里没电了，邻居家有电",
        "caller_name": "钱七",
        "phone": "13900000777",
        "address": "平安里7号",
        "area_code": REVIEW_AREA,
        "fault_scope": "own_home",
        "fault_started_at": datetime.now(UTC).isoformat(),
        "latitude": REVIEW_SITE[0],
        "longitude": REVIEW_SITE[1],
    }
    ticket = ok(httpx.post(f"{stack['intake']}/tickets", json=body, headers=AGENT, timeout=30), 201)

    def crewed() -> dict | None:
        found = ok(
            httpx.get(
                f"{dispatch}/work-orders", params={"ticket_id": ticket["id"]}, headers=SUPERVISOR
            )
        )
        return found[0] if found and found[0]["crew_id"] == REVIEW_CREW else None

    order = until(crewed, what="the repair never reached the crew")
    order_id = order["id"]
    on_site = {"latitude": REVIEW_SITE[0], "longitude": REVIEW_SITE[1]}
    first = {"cause": "户内总开关故障", "notes": "已更换"}
    returned = crew_steps(
        dispatch,
        order_id,
        ("accept", None),
        ("en-route", None),
        ("on-site", on_site),
        ("resolution", first),
        ("return", None),
    )
    assert returned["status"] == "returned" and returned["awaiting_review"]

    context, page = sign_in(browser, stack["console"], "super-9001", path="/dispatch")
    try:
        queue = page.locator("[data-test=review-queue]")
        mine = f"[data-test=review-row][data-order='{order_id}']"
        row = queue.locator("tr", has=page.locator(mine))
        row.wait_for(timeout=60_000)
        assert row.locator(mine).inner_text() == ticket["no"]  # by its 工单号
        text = row.inner_text()
        for shown in ("南区抢修班 · 抢修二队", "已修复", "户内总开关故障", "已更换"):
            assert shown in text, (shown, text)
        assert ":" in row.locator("[data-test=review-waited]").inner_text()
        assert int(queue.get_attribute("data-count") or 0) >= 1
        assert queue.locator("[data-test=review-count]").inner_text().strip() != ""
        assert untranslated(page, "zh-CN", names=(TRANSFORMER, "F-EAST-1", AREA)) == []
        queue.scroll_into_view_if_needed()
        shoot(page, "dispatch-board-review")

        # 回单退回: no reason, no send-back; with one, the order goes back to the crew on site.
        row.locator("[data-test=review-send-back]").click()
        confirm = page.locator("[data-test=review-confirm]:visible")
        reason = page.locator("textarea[data-test=review-reason]")
        reason.wait_for()
        # The first return came with no photo of the site: the dialog says so.
        page.locator("[data-test=review-no-photos]:visible").wait_for()
        assert page.locator("[data-test=review-photo]").count() == 0
        assert confirm.is_disabled()
        reason.fill("   ")
        assert confirm.is_disabled()
        why = "回单未写明故障点位置，请补充现场情况后重新回单"
        reason.fill(why)
        assert confirm.is_enabled()
        confirm.click()
        row.wait_for(state="detached", timeout=60_000)
        back = ok(httpx.get(f"{dispatch}/mobile/orders/{order_id}", headers=CREW))
        assert back["status"] == "on_site" and back["sent_back_reason"] == why, back
        assert not back["awaiting_review"]

        # The crew puts it right and returns it again: it waits for review once more, marked.
        # This time with a photo of the burnt switch, taken on the phone.
        picture = tiny_png(48, 32, (200, 60, 30))
        second = {
            "cause": "户内总开关触头烧蚀",
            "notes": "故障点在表箱下侧总开关，已更换",
            "photos": [
                {
                    "filename": "总开关.png",
                    "content_type": "image/png",
                    "data_base64": base64.b64encode(picture).decode(),
                }
            ],
        }
        again = crew_steps(dispatch, order_id, ("resolution", second), ("return", None))
        [uploaded] = again["photos"]
        assert again["awaiting_review"]

        # The board learns of it from the live stream (the crew's step is an event), with no
        # reload: the dispatcher at night does not press one.
        row.wait_for(state="attached", timeout=60_000)
        assert "户内总开关触头烧蚀" in row.inner_text()
        assert row.locator("[data-test=review-sent-back-tag]").count() == 1

        # The pass dialog shows the site photo the crew sent, loaded through the console (the
        # session cookie signs the <img>'s request), enlarged on a click.
        row.locator("[data-test=review-approve]").click()
        photos = page.locator("[data-test=review-photos]:visible")
        photos.locator("[data-test=review-photo]").first.wait_for()
        assert photos.get_attribute("data-count") == "1"
        thumbnail = photos.locator("[data-test=review-photo] img")
        assert thumbnail.count() == 1
        assert thumbnail.get_attribute("alt") == "总开关.png"
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
        )
        assert thumbnail.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [48, 32]
        bytes_url = f"/api/supervisor/dispatch/work-orders/{order_id}/photos/{uploaded['id']}"
        assert thumbnail.get_attribute("src") == bytes_url
        served = page.request.get(f"{stack['console']}{bytes_url}")
        assert served.status == 200 and served.body() == picture
        assert served.headers["content-type"] == "image/png"
        assert served.headers["cache-control"] == "no-store"
        assert served.headers["x-content-type-options"] == "nosniff"
        shoot(page, "dispatch-board-review-photos")
        thumbnail.click()
        viewer = page.locator(".el-image-viewer__wrapper")
        viewer.wait_for()
        viewer.locator(".el-image-viewer__close").click()
        viewer.wait_for(state="detached")

        # 审核通过, with a note: the order leaves the queue and its ticket goes to callback.
        page.locator("textarea[data-test=review-note]").fill("已电话核实，客户来电正常")
        page.locator("[data-test=review-confirm]:visible").click()
        row.wait_for(state="detached", timeout=60_000)
        passed = ok(httpx.get(f"{dispatch}/work-orders/{order_id}", headers=SUPERVISOR))
        assert passed["status"] == "returned" and not passed["awaiting_review"], passed
        assert passed["reviewed_by"] and passed["reviewed_at"], passed

        # Reviewed once, the return is refused a second review, and the console says why.
        bff = f"{stack['console']}/api/supervisor/dispatch/work-orders/{order_id}"
        twice = page.request.post(f"{bff}/return-approval", data={"note": None})
        assert twice.status == 409, twice.text()
        problem = twice.json()
        assert problem["type"].endswith("not-awaiting-review") and problem["detail"], problem
        blank = page.request.post(f"{bff}/return-send-back", data={"reason": ""})
        assert blank.status == 422, blank.text()
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "failure-dispatch-board-review.png"))
        raise
    finally:
        context.close()


def test_a_crews_request_to_cancel_shows_live_and_is_refused_then_granted(stack, browser):
    """申请撤单 on the board: a crew's request shows with no reload (its event on the stream);
    refused with why, the crew reads it on the phone; asked again and granted with the crew's
    reason, the order is cancelled."""
    dispatch = stack["dispatch"]
    seed_review_crew(dispatch)
    body = {
        "ticket_type": "repair",
        "description": "整栋楼没电",
        "caller_name": "孙八",
        "phone": "13900000888",
        "address": "平安里18号",
        "area_code": REVIEW_AREA,
        "fault_scope": "own_home",
        "fault_started_at": datetime.now(UTC).isoformat(),
        "latitude": REVIEW_SITE[0],
        "longitude": REVIEW_SITE[1],
    }
    ticket = ok(httpx.post(f"{stack['intake']}/tickets", json=body, headers=AGENT, timeout=30), 201)

    def crewed() -> dict | None:
        found = ok(
            httpx.get(
                f"{dispatch}/work-orders", params={"ticket_id": ticket["id"]}, headers=SUPERVISOR
            )
        )
        return found[0] if found and found[0]["crew_id"] == REVIEW_CREW else None

    order_id = until(crewed, what="the repair never reached the crew")["id"]
    crew_steps(dispatch, order_id, ("accept", None))

    context, page = sign_in(browser, stack["console"], "super-9001", path="/dispatch")
    try:
        panel = page.locator("[data-test=cancel-requests]")
        panel.wait_for(timeout=60_000)
        mine = f"[data-test=cancel-request-row][data-order='{order_id}']"
        row = panel.locator("tr", has=page.locator(mine))
        asked = crew_steps(dispatch, order_id, ("cancellation", {"reason": "客户说已经来电了"}))
        assert (asked["status"], asked["cancel_requested"]) == ("accepted", True)
        row.wait_for(timeout=60_000)  # no reload pressed: the stream told the board
        assert row.locator(mine).inner_text() == ticket["no"]
        assert "客户说已经来电了" in row.inner_text() and "抢修二队" in row.inner_text()
        # Marked in the open orders too, where the dispatcher looks first.
        page.locator("[data-test=order-cancel-requested]").first.wait_for()
        assert untranslated(page, "zh-CN", names=(TRANSFORMER, "F-EAST-1", AREA)) == []
        panel.scroll_into_view_if_needed()
        shoot(page, "dispatch-board-cancel-request")

        # Refused, with why: the order stays the crew's, which reads the reason.
        row.locator("[data-test=cancel-request-refuse]").click()
        text = page.locator("textarea[data-test=cancel-request-text]")
        confirm = page.locator("[data-test=cancel-request-confirm]:visible")
        text.wait_for()
        assert confirm.is_disabled()
        why = "客户再次来电，楼内仍无电，请到场处理"
        text.fill(why)
        confirm.click()
        row.wait_for(state="detached", timeout=60_000)
        told = ok(httpx.get(f"{dispatch}/mobile/orders/{order_id}", headers=CREW))
        assert (told["status"], told["cancel_requested"]) == ("accepted", False)
        assert (told["cancel_refused_reason"], told["sent_back_reason"]) == (why, None)

        # Asked again, and granted with the crew's reason (the customer hears it).
        crew_steps(dispatch, order_id, ("cancellation", {"reason": "客户家中空开跳闸，已自行合上"}))
        row.wait_for(timeout=60_000)
        row.locator("[data-test=cancel-request-grant]").click()
        text.wait_for()
        assert text.input_value() == "客户家中空开跳闸，已自行合上"
        page.locator("[data-test=cancel-request-confirm]:visible").click()
        row.wait_for(state="detached", timeout=60_000)
        cancelled = ok(httpx.get(f"{dispatch}/work-orders/{order_id}", headers=SUPERVISOR))
        assert cancelled["status"] == "cancelled", cancelled
        assert cancelled["cancel_reason"] == "客户家中空开跳闸，已自行合上"
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "failure-dispatch-board-cancel-request.png"))
        raise
    finally:
        context.close()
