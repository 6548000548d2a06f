"""Every call the console (BFF and demo) makes to another service, in one place, so a path that
changes at merge time is fixed here only. The user's own bearer token is forwarded: each service
still decides what this user may see and do. Upstream problems come back as they were sent."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import httpx

from brightline.platform import clock
from brightline.platform.problems import Problem

log = logging.getLogger(__name__)

SERVICES = ("intake", "dispatch", "casework", "callback", "sla", "records")


class Upstream:
    def __init__(
        self,
        urls: dict[str, str],
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.urls = urls
        self.http = httpx.AsyncClient(timeout=timeout, transport=transport)

    @classmethod
    def from_settings(cls, settings) -> Upstream:
        return cls(
            {
                "intake": settings.intake_url,
                "dispatch": settings.dispatch_url,
                "casework": settings.casework_url,
                "callback": settings.callback_url,
                "sla": settings.sla_url,
                "records": settings.records_url,
            },
            timeout=settings.upstream_timeout_seconds,
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        token: str,
        *,
        json: Any = None,
        params: dict | None = None,
        headers: dict | None = None,
        allow: tuple[int, ...] = (),
    ) -> httpx.Response:
        # Ids arrive from the browser: quote them so "/" or a control character in one cannot
        # reach another path of the upstream service, or break the URL.
        url = self.urls[service].rstrip("/") + quote(path, safe="/")
        try:
            response = await self.http.request(
                method,
                url,
                json=json,
                params={k: v for k, v in (params or {}).items() if v is not None},
                headers={"Authorization": f"Bearer {token}", **(headers or {})},
            )
        except httpx.HTTPError as error:
            raise Problem(
                502,
                "upstream-unavailable",
                f"The {service} service does not answer",
                f"{method} {path}: {type(error).__name__}",
                service=service,
            ) from error
        if response.status_code >= 400 and response.status_code not in allow:
            try:
                body = response.json()
            except ValueError:
                body = {"detail": response.text[:300]}
            extensions = (
                {
                    k: v
                    for k, v in body.items()
                    if k not in ("type", "title", "status", "detail", "instance")
                }
                if isinstance(body, dict)
                else {}
            )
            slug = str(body.get("type", "")).rsplit("/", 1)[-1] if isinstance(body, dict) else ""
            raise Problem(
                response.status_code if response.status_code < 500 else 502,
                slug or "upstream-error",
                (body.get("title") if isinstance(body, dict) else None)
                or f"{service} refused the request",
                body.get("detail") if isinstance(body, dict) else None,
                service=service,
                **extensions,
            )
        return response

    async def json(self, service: str, method: str, path: str, token: str, **kw) -> Any:
        response = await self.call(service, method, path, token, **kw)
        return None if response.status_code == 204 or not response.content else response.json()

    # ------------------------------------------------------------------ intake
    async def cti_event(self, token: str, body: dict) -> dict:
        """As the switch would: newCall / answer / hangup (integration token)."""
        return await self.json("intake", "POST", "/cti/events", token, json=body)

    async def get_call(self, token: str, call_id: str) -> dict:
        return await self.json("intake", "GET", f"/calls/{call_id}", token)

    async def caller_card(self, token: str, call_id: str) -> dict:
        return await self.json("intake", "GET", f"/calls/{call_id}/caller-card", token)

    async def greeting(
        self,
        token: str,
        *,
        call_id: str | None = None,
        language: str = "zh",
        closing_for: str | None = None,
        situation: list[str] | None = None,
        reply_within_working_days: int | None = None,
        ticket_id: str | None = None,
    ) -> dict:
        params: dict[str, Any] = {
            "call_id": call_id,
            "language": language,
            "closing_for": closing_for,
            "reply_within_working_days": reply_within_working_days,
            "ticket_id": ticket_id,
        }
        if situation:
            params["situation"] = situation
        return await self.json("intake", "GET", "/greetings", token, params=params)

    async def caller_card_of_number(self, token: str, number: str) -> dict:
        return await self.json("intake", "GET", f"/caller-cards/{number}", token)

    async def ticket(self, token: str, ticket_id: str) -> dict:
        return await self.json("intake", "GET", f"/tickets/{ticket_id}", token)

    async def etiquette_check(self, token: str, text: str) -> dict:
        return await self.json("intake", "POST", "/etiquette/check", token, json={"text": text})

    async def scripts(self, token: str) -> list[dict]:
        return await self.json("intake", "GET", "/scripts", token)

    async def script_next(self, token: str, ticket_type: str, answers: dict, language: str) -> dict:
        return await self.json(
            "intake",
            "POST",
            f"/scripts/{ticket_type}/next",
            token,
            json={"answers": answers, "language": language},
        )

    async def record_ticket(self, token: str, body: dict, idempotency_key: str | None) -> dict:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return await self.json("intake", "POST", "/tickets", token, json=body, headers=headers)

    async def complete_ticket(self, token: str, ticket_id: str, body: dict) -> dict:
        return await self.json("intake", "POST", f"/tickets/{ticket_id}/complete", token, json=body)

    async def record_call_outcome(
        self, token: str, body: dict, idempotency_key: str | None
    ) -> dict:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return await self.json(
            "intake", "POST", "/call-outcomes", token, json=body, headers=headers
        )

    async def my_tickets(self, token: str, open_only: bool = False) -> list[dict]:
        return await self.json(
            "intake", "GET", "/tickets", token, params={"open": str(open_only).lower()}
        )

    async def hand_over(self, token: str, to_agent: str, ticket_ids: list[str] | None) -> dict:
        """The open tickets the token's agent owns (every one, or those named), to `to_agent`
        (intake's shift handover)."""
        body: dict = {"to_agent": to_agent}
        if ticket_ids is not None:
            body["ticket_ids"] = ticket_ids
        return await self.json("intake", "POST", "/handovers", token, json=body)

    async def request_escalation(self, token: str, body: dict) -> dict:
        return await self.json("intake", "POST", "/escalations", token, json=body)

    async def escalations(self, token: str, status: str = "open") -> list[dict]:
        return await self.json("intake", "GET", "/escalations", token, params={"status": status})

    async def resolve_escalation(
        self, token: str, escalation_id: str, outcome: str, reason: str | None = None
    ) -> dict:
        return await self.json(
            "intake",
            "POST",
            f"/escalations/{escalation_id}/resolution",
            token,
            json={"outcome": outcome, "reason": reason},
        )

    async def find_customers(self, token: str, text: str) -> list[dict]:
        return await self.json("intake", "GET", "/customers", token, params={"q": text})

    async def caller_card_of_customer(
        self, token: str, customer_id: str, call_id: str | None
    ) -> dict:
        return await self.json(
            "intake",
            "GET",
            f"/customers/{customer_id}/caller-card",
            token,
            params={"call_id": call_id},
        )

    async def import_customers(self, token: str, customers: list[dict]) -> dict:
        return await self.json(
            "intake", "POST", "/customers/import", token, json={"customers": customers}
        )

    # ------------------------------------------------------------------ dispatch
    async def work_orders(
        self, token: str, status: str | None = None, limit: int = 100
    ) -> list[dict]:
        return await self.json(
            "dispatch", "GET", "/work-orders", token, params={"status": status, "limit": limit}
        )

    async def work_orders_of_ticket(self, token: str, ticket_id: str) -> list[dict]:
        return await self.json(
            "dispatch", "GET", "/work-orders", token, params={"ticket_id": ticket_id}
        )

    async def needs_routing(self, token: str) -> list[dict]:
        return await self.json("dispatch", "GET", "/work-orders/needs-routing", token)

    async def dispatch_write(self, token: str, method: str, path: str, body: dict) -> dict:
        """The dispatcher's acts (route, reassign, cancel, restore, review a return), each
        answered by dispatch."""
        return await self.json("dispatch", method, path, token, json=body)

    async def work_order_photos(self, token: str, work_order_id: str) -> list[dict]:
        """The site photos a crew uploaded with its resolution (for the 回单审核)."""
        return await self.json("dispatch", "GET", f"/work-orders/{work_order_id}/photos", token)

    async def work_order_photo(
        self, token: str, work_order_id: str, photo_id: str
    ) -> tuple[bytes, str]:
        """One site photo's raw bytes and the content type dispatch gave them (dispatch caps a
        photo at a few megabytes, so it is held whole)."""
        response = await self.call(
            "dispatch", "GET", f"/work-orders/{work_order_id}/photos/{photo_id}", token
        )
        content_type = response.headers.get("content-type", "application/octet-stream")
        return response.content, content_type

    async def crews(self, token: str) -> list[dict]:
        return await self.json("dispatch", "GET", "/crews", token)

    async def outages(self, token: str, status: str | None = None) -> list[dict]:
        return await self.json("dispatch", "GET", "/outages", token, params={"status": status})

    async def units(self, token: str) -> list[dict]:
        return await self.json("dispatch", "GET", "/units", token)

    async def service_areas(self, token: str) -> list[dict]:
        return await self.json("dispatch", "GET", "/service-areas", token)

    async def put_unit(self, token: str, unit_id: str, name: str) -> dict:
        return await self.json("dispatch", "PUT", f"/units/{unit_id}", token, json={"name": name})

    async def put_service_areas(self, token: str, areas: list[dict]) -> dict:
        return await self.json("dispatch", "PUT", "/service-areas", token, json={"areas": areas})

    async def put_crew(self, token: str, crew_id: str, unit_id: str, name: str) -> dict:
        return await self.json(
            "dispatch", "PUT", f"/crews/{crew_id}", token, json={"unit_id": unit_id, "name": name}
        )

    async def put_crew_member(self, token: str, crew_id: str, member_id: str, name: str) -> dict:
        return await self.json(
            "dispatch", "PUT", f"/crews/{crew_id}/members/{member_id}", token, json={"name": name}
        )

    async def put_crew_duty(self, token: str, crew_id: str, on_duty: bool) -> dict:
        return await self.json(
            "dispatch", "PUT", f"/crews/{crew_id}/duty", token, json={"on_duty": on_duty}
        )

    async def put_topology(self, token: str, transformers: list[dict], meters: list[dict]) -> dict:
        return await self.json(
            "dispatch",
            "PUT",
            "/topology",
            token,
            json={"transformers": transformers, "meters": meters},
        )

    async def crew_orders(self, crew_token: str) -> dict:
        return await self.json("dispatch", "GET", "/mobile/orders", crew_token)

    async def crew_step(
        self, crew_token: str, work_order_id: str, step: str, body: dict | None = None
    ) -> dict:
        """step: accept | en-route | on-site | resolution | return | cancellation (a request)"""
        return await self.json(
            "dispatch",
            "POST",
            f"/mobile/orders/{work_order_id}/{step}",
            crew_token,
            json=body or {},
            headers=mobile_write_headers(),
        )

    async def crew_position(self, crew_token: str, latitude: float, longitude: float) -> None:
        await self.call(
            "dispatch",
            "POST",
            "/mobile/position",
            crew_token,
            json={"latitude": latitude, "longitude": longitude},
            headers=mobile_write_headers(),
        )

    # ------------------------------------------------------------------ casework
    async def put_department(self, token: str, department_id: str, body: dict) -> dict:
        return await self.json("casework", "PUT", f"/departments/{department_id}", token, json=body)

    async def departments(self, token: str) -> list[dict]:
        return await self.json("casework", "GET", "/departments", token)

    async def cases(self, token: str, **params) -> list[dict]:
        return await self.json("casework", "GET", "/cases", token, params=params)

    async def transfer_case(self, token: str, case_id: str, body: dict) -> dict:
        return await self.json("casework", "POST", f"/cases/{case_id}/transfer", token, json=body)

    async def case(self, token: str, case_id: str) -> dict:
        return await self.json("casework", "GET", f"/cases/{case_id}", token)

    async def case_step(self, token: str, case_id: str, step: str, body: dict | None) -> dict:
        """A department's step on a case it holds (accept, reply) or the answer to the customer."""
        return await self.json("casework", "POST", f"/cases/{case_id}/{step}", token, json=body)

    async def case_contact(self, token: str, case_id: str) -> dict:
        """The customer's (or reporter's) name and phone, for the roles casework's rules allow;
        casework audits every read, granted or refused."""
        return await self.json("casework", "GET", f"/cases/{case_id}/contact", token)

    async def chase_case(self, token: str, case_id: str, body: dict) -> dict:
        return await self.json("casework", "POST", f"/cases/{case_id}/chase", token, json=body)

    # ------------------------------------------------------------------ callback
    async def next_callback(self, token: str) -> dict | None:
        return await self.json("callback", "POST", "/callback-tasks/next", token)

    async def waiting_callbacks(self, token: str, **params) -> dict:
        return await self.json("callback", "GET", "/callback-tasks/waiting", token, params=params)

    async def callback_script(self, token: str, task_id: str) -> dict:
        return await self.json("callback", "GET", f"/callback-tasks/{task_id}/script", token)

    async def callback_outcome(
        self, token: str, task_id: str, body: dict, idempotency_key: str | None
    ) -> dict:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return await self.json(
            "callback",
            "POST",
            f"/callback-tasks/{task_id}/outcome",
            token,
            json=body,
            headers=headers,
        )

    # ------------------------------------------------------------------ sla monitor
    async def kpis(
        self,
        token: str,
        date_from: date | None = None,
        date_to: date | None = None,
        group_by: str = "all",
    ) -> dict:
        return await self.json(
            "sla",
            "GET",
            "/kpis",
            token,
            params={
                "date_from": date_from.isoformat() if date_from else None,
                "date_to": date_to.isoformat() if date_to else None,
                "group_by": group_by,
            },
        )

    async def breaches(self, token: str) -> list[dict]:
        return await self.json("sla", "GET", "/breaches", token)

    async def deadlines_in_state(self, token: str, state: str) -> list[dict]:
        return await self.json("sla", "GET", "/deadlines", token, params={"state": state})

    async def pause_deadline(self, token: str, deadline_id: str, body: dict) -> dict:
        return await self.json("sla", "POST", f"/deadlines/{deadline_id}/pause", token, json=body)

    async def resume_deadline(self, token: str, deadline_id: str) -> dict:
        return await self.json("sla", "POST", f"/deadlines/{deadline_id}/resume", token)

    async def calendar(self, token: str) -> dict:
        """How far the working-day calendar reaches (the data-horizon warning)."""
        return await self.json("sla", "GET", "/calendar", token)

    async def deadlines_of_ticket(self, token: str, ticket_id: str) -> list[dict]:
        return await self.json("sla", "GET", "/deadlines", token, params={"ticket_id": ticket_id})

    # ------------------------------------------------------------------ records
    async def search_tickets(self, token: str, params: dict) -> dict:
        return await self.json("records", "GET", "/tickets", token, params=params)

    async def timeline(self, token: str, ticket_id: str) -> dict:
        return await self.json("records", "GET", f"/tickets/{ticket_id}/timeline", token)

    async def confidential_reads(self, service: str, token: str, **params) -> list[dict]:
        """Who read (or tried to read) what is confidential: casework's reads of a reporter's
        contact, records' finds and reads of a report."""
        return await self.json(service, "GET", "/audit/confidential-reads", token, params=params)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def mobile_write_headers() -> dict[str, str]:
    """What a crew phone sends with every write: a fresh idempotency key and its own clock."""
    return {"Idempotency-Key": str(uuid.uuid4()), "X-Device-Time": clock.now().isoformat()}
