"""What the browser tests share: Debian's Chromium, THE sign-in step (one function, so the
switch to the identity provider's sign-in changes one place), screenshots at the two screen
sizes, and the check that the rendered page shows no untranslated key and no raw code."""

from __future__ import annotations

import re

import httpx

from brightline.platform.auth import Role
from brightline.platform.local.paths import project_root
from brightline.platform.testing import bearer
from brightline.platform.testing import sign_in as keycloak_sign_in

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = project_root() / "test-artifacts" / "console"
LAPTOP = {"width": 1366, "height": 768}
DESKTOP = {"width": 1920, "height": 1080}
# The people the browser tests sign in as, made on demand in the session's Keycloak.
USERS = {
    "agent-1001": {"name": "王晓丽", "staff_no": "1001"},
    "agent-1002": {"name": "李明", "staff_no": "1002"},
    "agent-1003": {"name": "张芳", "staff_no": "1003"},
    "agent-1004": {"name": "陈静", "staff_no": "1004"},
    "super-9001": {"name": "赵值班长", "staff_no": "9001"},
    "cw-1001": {"name": "孙办理", "staff_no": "2001", "department_id": "dept-service"},
}
# Who is not an agent (the default) or a supervisor (super-*).
ROLES = {"cw-1001": (Role.CASEWORKER,)}


def import_customer(intake: str, phone: str) -> None:
    """The customer both desks' calls come from, as the CRM imports them into intake."""
    imported = httpx.post(
        f"{intake}/customers/import",
        headers=bearer(Role.INTEGRATION, subject="crm"),
        json={
            "customers": [
                {
                    "customer_id": "3300000001",
                    "name": "李四",
                    "phones": [phone],
                    "address": "杭州市文三路100号3幢2单元",
                    "area_code": "HZ-XH-01",
                    "meter_no": "M0000001",
                }
            ]
        },
        timeout=10,
    )
    assert imported.status_code == 200, imported.text


def sign_in(browser, base: str, username: str, *, path: str = "/", locale: str = "zh-CN"):
    """A new browser context signed in as `username`; returns (context, page).

    Through Keycloak's real login page (authorization code with PKCE): /auth/login redirects
    there, the user types name and password, Keycloak sends the browser back."""
    context = browser.new_context(viewport=LAPTOP, locale=locale, timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(30_000)
    keycloak_sign_in(page, base, username, *ROLES.get(username, ()), **USERS.get(username, {}))
    if path != "/":
        page.goto(base + path)
    return context, page


def shoot(page, name: str) -> None:
    """Screenshots at 1366×768 and 1920×1080 (written on every run); at the laptop size the page
    must not scroll sideways (nothing clipped off the right edge)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for size in (LAPTOP, DESKTOP):
        page.set_viewport_size(size)
        page.wait_for_timeout(150)  # one layout pass after the resize
        page.screenshot(path=str(ARTIFACTS / f"{name}-{size['width']}x{size['height']}.png"))
        if size == LAPTOP:
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"{name}: the page is {overflow}px wider than 1366"
    page.set_viewport_size(LAPTOP)


# Codes the back end speaks; none may reach the screen as such.
RAW_CODES = {
    "repair",
    "consultation",
    "service_request",
    "complaint",
    "report",
    "opinion",
    "suggestion",
    "praise",
    "recorded",
    "completed",
    "not_ready",
    "wrap_up",
    "ringing",
    "talking",
    "offline",
    "ready",
    "own_home",
    "building",
    "area",
    "service",
    "business",
    "supply_quality",
    "grid_construction",
    "special",
    "major",
    "important",
    "general",
    "agitated",
    "harassing",
    "complex",
    "taken_over",
    "accepted",
    "declined",
    "marked_harassing",
    "satisfied",
    "basically_satisfied",
    "unsatisfied",
    "unreachable",
    "silent_call",
    "inaudible",
    "wrong_number",
    "system_fault",
    "kind_invitation",
    "dialect",
    "create_ticket",
    "link_to_existing",
    "resolved_on_call",
    "transfer_supervisor",
    "after_call_paperwork",
    "ticket_recorded",
    "information_given",
    "callback_promised",
    "transferred",
    "dropped",
    "resolved",
}
# Latin words allowed on a Chinese screen: the language switch and the Ctrl key.
ALLOWED_LATIN = {"EN", "Ctrl"}


def untranslated(page, locale: str, names: tuple[str, ...] = ()) -> list[str]:
    """Untranslated keys and raw codes on the rendered page (empty when all is well).

    Chinese screen: any Latin word (3+ letters, no digit) but the language switch is a fault:
    an English enum, a key path like `state.ready`, an id like `repair@1`. English screen: any
    snake_case code, any key path, and any message key vue-i18n could not find. `names` are
    what the data itself calls by a Latin name (a transformer `T-EAST-7`): shown as they are."""
    text, missing = page.evaluate("() => [document.body.innerText, window.__missingI18n || []]")
    for name in names:
        text = text.replace(name, "")
    faults = [f"missing message {m}" for m in missing]
    faults += [f"key path {k}" for k in re.findall(r"\b[a-z]+(?:\.[a-zA-Z_]+)+\b", text)]
    faults += [f"script id {k}" for k in re.findall(r"\b[a-z_]+@\d+\b", text)]
    if locale.startswith("zh"):
        for word in re.findall(r"[A-Za-z][A-Za-z_]{2,}", text):
            if word not in ALLOWED_LATIN:
                faults.append(f"Latin word {word!r} on the Chinese screen")
    else:
        faults += [
            f"code {w!r}"
            for w in re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", text)
            if w in RAW_CODES or "_" in w
        ]
    if "？" in re.sub(r"[\u4e00-\u9fff，。！：；、（）“”]？", "", text):
        faults.append("a missing-message marker '？' outside a Chinese sentence")
    return faults
