"""The attack suite: what an outsider or a curious insider would try with the default deployment,
one test per point of issue 17 that this change closes. Each failed on the code before it.

Real parts throughout: the session's Keycloak, the real broker and database, the services'
own apps (or their own OS processes for start-up checks)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric import rsa

from brightline.platform.auth import Role
from brightline.platform.local.paths import project_root
from brightline.platform.testing import (
    bearer,
    identity_provider,
    running,
    service_app,
    service_names,
)

pytestmark = pytest.mark.integration

SERVICES = service_names()
OLD_SHARED_SECRET = "brightline-dev-secret-change-me-0123456789"  # was in the source
TEN_MB = 10 * 1024 * 1024


def _supervisor_claims(issuer: str, audience: str) -> dict:
    now = int(time.time())
    return {
        "iss": issuer,
        "aud": audience,
        "sub": "mallory",
        "preferred_username": "mallory",
        "roles": ["supervisor", "agent", "integration"],
        "scopes": ["*"],
        "iat": now,
        "exp": now + 600,
    }


def _token(issuer: str, **form: str) -> httpx.Response:
    """The provider's token endpoint, as any client calls it."""
    return httpx.post(f"{issuer}/protocol/openid-connect/token", data=form)


# --------------------------------------------------------------------------- point 2
@pytest.mark.parametrize("service", SERVICES)
async def test_forged_tokens_are_refused_and_a_keycloak_token_is_accepted(
    service, infra_env, db_name
):
    issuer = infra_env["oidc_issuer"]
    audience = f"brightline-{service}"
    real_kid = jwt.get_unverified_header(bearer(Role.SUPERVISOR)["Authorization"].split()[1])["kid"]
    attacker_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = {
        "old shared secret, old issuer": jwt.encode(
            {**_supervisor_claims("brightline", audience)}, OLD_SHARED_SECRET, algorithm="HS256"
        ),
        "old shared secret, real issuer": jwt.encode(
            _supervisor_claims(issuer, audience), OLD_SHARED_SECRET, algorithm="HS256"
        ),
        "attacker's RSA key, real kid": jwt.encode(
            _supervisor_claims(issuer, audience),
            attacker_key,
            algorithm="RS256",
            headers={"kid": real_kid},
        ),
        "alg none": ".".join(
            base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
            for part in ({"alg": "none", "typ": "JWT"}, _supervisor_claims(issuer, audience))
        )
        + ".",
    }
    app = service_app(service, **infra_env, database_name=db_name(service))
    async with running(app) as client:
        for what, token in forged.items():
            response = await client.get(
                "/audit/events", headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 401, f"{service} accepted a token: {what}"
        # A real token of the provider, for another audience only: refused too.
        crew_client = _token(
            issuer,
            grant_type="password",
            client_id="brightline-crew",
            username="crew-aud-1",
            password=identity_provider().password(
                "crew-aud-1", Role.CREW, crew_id="c1", unit_id="u1"
            ),
        ).json()["access_token"]
        if service != "dispatch":
            refused = await client.get(
                "/audit/events", headers={"Authorization": f"Bearer {crew_client}"}
            )
            assert refused.status_code == 401, f"{service} accepted a dispatch-only token"
        ok = await client.get("/audit/events", headers=bearer(Role.SUPERVISOR, subject="sup-1"))
        assert ok.status_code == 200, ok.text


def test_pin_and_password_guessing_is_locked_out_by_the_provider(oidc_issuer):
    member = f"crew-guess-{uuid.uuid4().hex[:6]}"
    pin = identity_provider().password(member, Role.CREW, crew_id="crew-g", unit_id="unit-g")

    def sign_in(password: str) -> httpx.Response:
        return httpx.post(
            f"{oidc_issuer}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "brightline-crew",  # the phones' public client
                "username": member,
                "password": password,
            },
        )

    assert sign_in(pin).status_code == 200  # the right PIN works at first
    guesses = [sign_in(f"{n:06d}").status_code for n in range(6)]
    assert set(guesses) == {401} or set(guesses) <= {400, 401}
    locked = sign_in(pin)
    assert locked.status_code in (400, 401), "the right PIN still works after six guesses"
    assert "access_token" not in locked.text


# --------------------------------------------------------------------------- point 3
def _start(service: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BRIGHTLINE_", "CONSOLE_"))}
    return subprocess.run(
        [sys.executable, "-m", f"brightline.{service}", "serve", "--port", "1"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_services_refuse_to_start_in_production_with_placeholder_secrets():
    production = {
        "BRIGHTLINE_ENV": "production",
        "BRIGHTLINE_OIDC_ISSUER": "https://id.utility.example/realms/brightline",
    }
    placeholder_db = _start(
        "intake",
        {**production, "DATABASE_URL": "postgresql+asyncpg://svc:change-me@db:5432/postgres"},
    )
    assert placeholder_db.returncode == 2
    assert "refuses to start" in placeholder_db.stderr and "DATABASE_URL" in placeholder_db.stderr

    no_issuer = _start(
        "dispatch",
        {
            "BRIGHTLINE_ENV": "production",
            "DATABASE_URL": "postgresql+asyncpg://svc:Xk2-9fLq-Vb7-pWm3@db/x",
        },
    )
    # (dispatch builds settings at import time: refused there, with a traceback, still refused)
    assert no_issuer.returncode != 0 and "refuses to start" in no_issuer.stderr
    assert "BRIGHTLINE_OIDC_ISSUER" in no_issuer.stderr

    dev_contact_key = _start(
        "casework",
        {**production, "DATABASE_URL": "postgresql+asyncpg://svc:Xk2-9fLq-Vb7-pWm3@db/x"},
    )
    assert dev_contact_key.returncode != 0 and "CASEWORK_CONTACT_KEY" in dev_contact_key.stderr

    no_client_secret = _start(
        "console",
        {**production, "DATABASE_URL": "postgresql+asyncpg://svc:Xk2-9fLq-Vb7-pWm3@db/x"},
    )
    assert no_client_secret.returncode != 0
    assert "CONSOLE_OIDC_CLIENT_SECRET" in no_client_secret.stderr


async def test_the_demo_client_users_and_hint_exist_only_under_make_run(
    oidc_issuer, infra_env, db_name
):
    realm = json.loads(
        (project_root() / "deploy" / "keycloak" / "realm-brightline.json").read_text()
    )
    assert [u["username"] for u in realm.get("users", [])] == ["service-account-brightline-console"]
    assert not any("secret" in c for c in realm["clients"]), "a client secret in the realm file"
    assert "demo-integration" not in {c["clientId"] for c in realm["clients"]}
    # The demo client with the secret the README used to print gets nothing here.
    demo = _token(
        oidc_issuer,
        grant_type="client_credentials",
        client_id="demo-integration",
        client_secret="demo-integration-secret",
    )
    assert demo.status_code in (400, 401) and "access_token" not in demo.text
    # No service takes client credentials itself any more, and the console tells no password.
    app = service_app("console", **infra_env, database_name=db_name("console"))
    async with running(app) as client:
        assert (await client.get("/api/sessions/demo-hint")).status_code == 404
        assert (await client.post("/oauth/token", data={"client_id": "x"})).status_code == 404


# --------------------------------------------------------------------------- point 4
async def test_an_agent_cannot_read_a_whistle_blowers_report_through_intake(infra_env, db_name):
    from aiokafka import AIOKafkaConsumer

    from brightline.contracts.topics import INTAKE_TICKETS
    from brightline.messaging.kafka import prefixed

    recorder = bearer(Role.AGENT, subject="agent-71", staff_no="1071")
    curious = bearer(Role.AGENT, subject="agent-72", staff_no="1072")
    supervisor = bearer(Role.SUPERVISOR, subject="sup-71")
    phone = "13987654321"
    app = service_app("intake", **infra_env, database_name=db_name("intake"))
    async with running(app) as client:
        recorded = await client.post(
            "/tickets",
            json={
                "ticket_type": "report",
                "description": "有人窃电",
                "caller_name": "举报人甲",
                "phone": phone,
                "address": "幸福路9号",
            },
            headers=recorder,
        )
        assert recorded.status_code == 201, recorded.text
        ticket = recorded.json()
        # Intake keeps none of the reporter's contact details, not even for its recorder.
        assert phone not in recorded.text and "举报人甲" not in recorded.text
        # Another agent cannot read it, nor list another agent's tickets.
        assert (await client.get(f"/tickets/{ticket['id']}", headers=curious)).status_code == 404
        listed = await client.get("/tickets", params={"owner": "agent-71"}, headers=curious)
        assert listed.status_code == 403
        # The supervisor can, sees no contact either, and the read is audited.
        read = await client.get(f"/tickets/{ticket['id']}", headers=supervisor)
        assert read.status_code == 200 and phone not in read.text
        audit = await client.get(
            "/audit",
            params={"ticket_id": ticket["id"], "action": "ticket.read"},
            headers=supervisor,
        )
        assert audit.status_code == 200 and audit.json()[0]["actor"] == "sup-71"
        # The reporter's number shows no report on a caller card.
        card = await client.get(f"/caller-cards/{phone}", headers=recorder)
        assert card.status_code == 200 and ticket["id"] not in card.text
    # The contact went once, in the recorded event, for casework's vault.
    consumer = AIOKafkaConsumer(
        prefixed(infra_env["kafka_topic_prefix"], INTAKE_TICKETS.name),
        bootstrap_servers=infra_env["kafka_bootstrap_servers"],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=10_000)
        payloads = [m.value.decode() for ms in batches.values() for m in ms]
    finally:
        await consumer.stop()
    assert any(ticket["id"] in p for p in payloads)


# --------------------------------------------------------------------------- point 5
@pytest.mark.parametrize("service", SERVICES)
async def test_a_10_mb_body_is_refused_with_413_before_authentication(service):
    app = service_app(service)  # no lifespan needed: nothing past the limit runs
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        declared = await client.post(
            "/tickets",
            content=b"{" + b" " * TEN_MB + b"}",
            headers={"Content-Type": "application/json"},
        )
        assert declared.status_code == 413, declared.text
        assert declared.headers["content-type"] == "application/problem+json"

        async def chunks():
            for _ in range(10):
                yield b" " * (1024 * 1024)

        streamed = await client.post(
            "/tickets", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413, streamed.text


async def test_an_agent_cannot_complete_another_agents_ticket(infra_env, db_name):
    owner = bearer(Role.AGENT, subject="agent-41", staff_no="1041")
    other = bearer(Role.AGENT, subject="agent-42", staff_no="1042")
    app = service_app("intake", **infra_env, database_name=db_name("intake"))
    async with running(app) as client:
        created = await client.post(
            "/tickets",
            json={
                "ticket_type": "consultation",
                "description": "电费怎么交",
                "caller_name": "李四",
                "phone": "13912345678",
            },
            headers=owner,
        )
        assert created.status_code == 201, created.text
        ticket_id = created.json()["id"]
        answer = {"reply": "已告知缴费方式。"}
        stolen = await client.post(f"/tickets/{ticket_id}/complete", json=answer, headers=other)
        assert stolen.status_code == 404
        mine = await client.post(f"/tickets/{ticket_id}/complete", json=answer, headers=owner)
        assert mine.status_code == 200, mine.text


async def test_another_agents_call_cannot_be_hung_up_through_the_console(infra_env, db_name):
    app = service_app(
        "console",
        **infra_env,
        database_name=db_name("console"),
        intake_url="http://127.0.0.1:9",  # nothing may be forwarded to the switch webhook
    )
    async with running(app) as client:
        agent = bearer(Role.AGENT, subject="agent-43", staff_no="1043")
        assert (await client.get("/api/desk/state", headers=agent)).status_code == 200
        hung = await client.post("/api/agent/calls/call-of-agent-44/hangup", headers=agent)
        assert hung.status_code == 404 and hung.json()["type"].endswith("/not-your-call")


async def test_an_idempotency_key_replays_only_to_the_caller_who_used_it(infra_env, db_name):
    body = {
        "ticket_type": "consultation",
        "description": "同一个键",
        "caller_name": "王五",
        "phone": "13912340000",
    }
    key = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    app = service_app("intake", **infra_env, database_name=db_name("intake"))
    async with running(app) as client:
        first = await client.post(
            "/tickets", json=body, headers={**bearer(Role.AGENT, subject="agent-51"), **key}
        )
        again = await client.post(
            "/tickets", json=body, headers={**bearer(Role.AGENT, subject="agent-51"), **key}
        )
        other = await client.post(
            "/tickets", json=body, headers={**bearer(Role.AGENT, subject="agent-52"), **key}
        )
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]  # the same caller's retry replays
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert "Idempotent-Replayed" not in other.headers


async def test_the_three_reproduced_500s_answer_4xx_problems(infra_env, db_name):
    agent = bearer(Role.AGENT, subject="agent-61", staff_no="1061")
    supervisor = bearer(Role.SUPERVISOR, subject="sup-61")
    console = service_app("console", **infra_env, database_name=db_name("console"))
    async with running(console) as client:
        bad_key = await client.post(
            "/api/tickets",
            json={"ticket_type": "consultation", "description": "x"},
            headers={**agent, "Idempotency-Key": "键-é".encode()},
        )
        assert bad_key.status_code == 422, bad_key.text
        assert bad_key.headers["content-type"] == "application/problem+json"
    dispatch = service_app("dispatch", **infra_env, database_name=db_name("dispatch"))
    async with running(dispatch) as client:
        long_id = await client.get(f"/work-orders/{'w' * 120}", headers=supervisor)
        assert 400 <= long_id.status_code < 500, long_id.text
        assert long_id.headers["content-type"] == "application/problem+json"
    sla = service_app("sla_monitor", **infra_env, database_name=db_name("sla"))
    async with running(sla) as client:
        far = await client.get("/kpis", params={"date_to": "9999-12-31"}, headers=supervisor)
        assert far.status_code == 422 and far.headers["content-type"] == "application/problem+json"


async def test_a_time_out_of_the_calendars_reach_is_a_422_naming_it_not_a_500(infra_env, db_name):
    """Found by fuzzing every operation of make run's services with odd values: a greeting asked
    for 9999-12-31T23:59:59Z was a 500 (Beijing time of it is past year 9999), a naive one was
    read in the host's zone, and a milestone dated 1990 was recorded and handed to the SLA
    monitor."""
    agent = bearer(Role.AGENT, subject="agent-62", staff_no="1062")
    intake = service_app("intake", **infra_env, database_name=db_name("intake"))
    async with running(intake) as client:
        for at in ("9999-12-31T23:59:59+00:00", "1900-01-01T00:00:00+08:00", "2026-12-07T10:00"):
            r = await client.get("/greetings", params={"at": at}, headers=agent)
            assert r.status_code == 422, (at, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert [e["field"] for e in r.json()["errors"]] == ["query.at"], r.text
        festival = await client.get(
            "/greetings", params={"at": "2027-02-06T09:00:00+08:00"}, headers=agent
        )
        assert festival.status_code == 200, festival.text  # a moment to come is a fair question
        for occurred_at in ("1990-01-01T00:00:00+08:00", "2099-01-01T00:00:00+08:00"):
            r = await client.post(
                f"/tickets/{uuid.uuid4()}/milestones",
                json={"milestone": "arrived", "occurred_at": occurred_at},
                headers=agent,
            )
            assert r.status_code == 422, (occurred_at, r.text)
            assert [e["field"] for e in r.json()["errors"]] == ["occurred_at"], r.text


def test_what_a_person_writes_for_others_to_act_on_is_never_blank():
    """Spaces alone passed min_length=1: a department could answer a complaint with nothing and
    meet its reply limit, an agent close a ticket with an empty reply read out at the callback, a
    crew return an order with a blank cause. Every such field is Said: trimmed, never blank."""
    from pydantic import BaseModel, ValidationError

    from brightline.casework.api import schemas as casework
    from brightline.console.api import answers, department, desk_schemas, dispatch_board
    from brightline.dispatch.api import planned
    from brightline.dispatch.api import schemas as dispatch
    from brightline.intake.api import schemas as intake
    from brightline.sla_monitor.api import routes as sla

    said: list[tuple[type[BaseModel], str]] = [
        (casework.InvestigationCreate, "note"),
        (casework.ReplyCreate, "text"),
        (casework.SendBackCreate, "reason"),
        (casework.ReturnCreate, "reason"),
        (casework.AnswerCreate, "text"),
        (intake.TicketCreate, "description"),
        (intake.TicketComplete, "reply"),
        (dispatch.ResolveStep, "cause"),
        (dispatch.CancelStep, "reason"),
        (dispatch.CancelRefusal, "reason"),
        (planned.PlannedOutageCancel, "reason"),
        (sla.DeadlineClose, "reason"),
        (answers.Answer, "text"),
        (answers.SendBack, "reason"),
        (department.Reply, "text"),
        (department.Investigation, "note"),
        (desk_schemas.TicketCompletion, "reply"),
        (dispatch_board.Reason, "reason"),
    ]
    for model, name in said:
        field = model.model_fields[name]
        for blank in ("", "   ", "\u3000\u3000", "\n\t"):
            try:
                model.__pydantic_validator__.validate_assignment(
                    model.model_construct(), name, blank
                )
            except ValidationError as error:
                assert error.errors()[0]["loc"] == (name,), (model, error)
            else:
                raise AssertionError(f"{model.__name__}.{name} took {blank!r}")
        kept = model.__pydantic_validator__.validate_assignment(
            model.model_construct(), name, "  客户已复电  "
        )
        assert getattr(kept, name) == "客户已复电", (model, name, field)


async def test_a_page_offset_past_what_postgres_holds_is_a_422_not_a_500(infra_env, db_name):
    """Found by fuzzing the console: its waiting-callbacks page passed offset=10**19 through to
    the callback service, whose query overflowed PostgreSQL's bigint: a 500, a 502 on the desk."""
    agent = bearer(Role.AGENT, subject="agent-63", staff_no="1063")
    callback = service_app("callback", **infra_env, database_name=db_name("callback"))
    async with running(callback) as client:
        for offset in (10**19, 1_000_001, -1):
            r = await client.get(
                "/callback-tasks/waiting", params={"offset": offset}, headers=agent
            )
            assert r.status_code == 422, (offset, r.text)
            assert [e["field"] for e in r.json()["errors"]] == ["query.offset"], r.text
        deep = await client.get("/callback-tasks/waiting", params={"offset": 10**6}, headers=agent)
        assert deep.status_code == 200 and deep.json()["items"] == [], deep.text


async def test_the_console_sends_a_strict_csp_and_security_headers(infra_env, db_name):
    app = service_app("console", **infra_env, database_name=db_name("console"))
    async with running(app) as client:
        page = await client.get("/")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"


def test_log_masking_is_recursive_and_knows_86_and_dashed_phones():
    from brightline.platform.logging import mask_personal_data

    event = mask_personal_data(
        None,
        None,
        {
            "event": "call from +86 139 1234 5678, then 0086-139-1234-5679 and 139-1234-5670",
            "payload": {
                "contact": {"phone": "13912345671", "name": "李四"},
                "items": [{"caller_name": "王五", "note": "回拨 +86-13912345672 或 010-87654321"}],
            },
            "args": ("+8613912345673",),
        },
    )
    text = json.dumps(event, ensure_ascii=False)
    for digits in ("12345678", "1234 5678", "1234-5678", "1234-5679", "1234-5670", "87654321"):
        assert digits not in text, text
    for number in ("13912345671", "13912345672", "13912345673"):
        assert number not in text
    assert "李四" not in text and "王五" not in text
    assert "95598" in json.dumps(mask_personal_data(None, None, {"event": "拨打95598"}))


def test_sql_parameters_never_reach_logs_or_errors():
    from brightline.platform.db import create_engine

    engine = create_engine("postgresql+asyncpg://u@/db?host=/nonexistent")
    assert engine.sync_engine.hide_parameters


async def test_api_docs_are_off_outside_development():
    production = service_app(
        "intake",
        environment="production",
        oidc_issuer="https://id.utility.example/realms/brightline",
        database_url="postgresql+asyncpg://svc:Xk2-9fLq-Vb7-pWm3@db:5432/postgres",
        personal_data_key=Fernet.generate_key().decode(),
    )
    development = service_app("intake", environment="development")
    for app, expected in ((production, 404), (development, 200)):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for path in ("/docs", "/openapi.json"):
                assert (await client.get(path)).status_code == expected, path


async def test_metrics_are_on_an_internal_port_outside_development(infra_env, db_name):
    """Started in production mode (with secrets it accepts), a service answers 404 for /metrics,
    /docs and /openapi.json on its public port and serves metrics on METRICS_PORT only."""
    from brightline.platform.local.paths import free_port

    internal = free_port()
    app = service_app(
        "intake",
        **{**infra_env, "environment": "production"},
        database_name=db_name("intake"),
        metrics_port=internal,
        personal_data_key=Fernet.generate_key().decode(),
    )
    async with running(app) as public:
        for path in ("/metrics", "/docs", "/openapi.json"):
            assert (await public.get(path)).status_code == 404, path
        async with httpx.AsyncClient() as prometheus:
            scraped = await prometheus.get(f"http://127.0.0.1:{internal}/metrics")
        assert scraped.status_code == 200
        assert "# TYPE http_requests_total counter" in scraped.text
    async with httpx.AsyncClient() as prometheus:
        with pytest.raises(httpx.ConnectError):  # the internal server stops with the app
            await prometheus.get(f"http://127.0.0.1:{internal}/metrics")
