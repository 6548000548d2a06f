"""A request served leaves one server span (route and service named), not a span per ASGI
message besides it: those spans cost CPU on every request and told nothing more."""

from __future__ import annotations

from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, Depends
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from brightline.platform.app import create_service_app
from brightline.platform.auth import Public
from brightline.platform.settings import ServiceSettings
from brightline.platform.telemetry import SERVICE_ATTRIBUTE, configure_tracing


@asynccontextmanager
async def nothing(app):
    yield


async def test_a_request_leaves_its_server_span_only(monkeypatch):
    monkeypatch.setenv("BRIGHTLINE_ENV", "development")
    exporter = InMemorySpanExporter()
    configure_tracing("spans-test", exporter)
    router = APIRouter(tags=["echo"])

    @router.post("/echo/{n}", dependencies=[Depends(Public("a test route"))])
    async def echo(n: int, body: dict) -> dict:
        return {"n": n, **body}

    app = create_service_app(
        ServiceSettings(service_name="spans-test", database_name="unused"),
        title="t",
        description="d",
        routers=[router],
        lifespan=nothing,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.post("/echo/3", json={"a": 1})
    assert response.json() == {"n": 3, "a": 1}
    spans = exporter.get_finished_spans()
    served = [s for s in spans if s.attributes.get(SERVICE_ATTRIBUTE) == "spans-test"]
    assert len(served) == 1
    assert served[0].kind == SpanKind.SERVER
    assert served[0].attributes.get("http.route") == "/echo/{n}"
    # FastAPI's own span: the OpenTelemetry ASGI middleware cost three layers per request.
    assert served[0].instrumentation_scope.name == "fastapi"
    assert [s.name for s in spans if s.kind == SpanKind.INTERNAL] == []
