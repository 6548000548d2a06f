"""Every app a process builds counts and times its requests under the route's template, and
every response carries the security headers, 413s of the body limit included."""

from __future__ import annotations

from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, Depends
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

from brightline.platform.app import SERVICE_MIDDLEWARE, create_service_app
from brightline.platform.auth import Public
from brightline.platform.settings import ServiceSettings


@asynccontextmanager
async def nothing(app):
    yield


def echo_app(name: str):
    router = APIRouter(tags=["echo"])

    @router.post("/edge-echo/{n}", dependencies=[Depends(Public("a test route"))])
    async def echo(n: int, body: dict) -> dict:
        return {"n": n, **body}

    return create_service_app(
        ServiceSettings(service_name=name, database_name="unused", max_body_bytes=64),
        title="t",
        description="d",
        routers=[router],
        lifespan=nothing,
    )


def count(status: str, handler: str) -> float:
    labels = {"method": "POST", "status": status, "handler": handler}
    return REGISTRY.get_sample_value("http_requests_total", labels) or 0.0


async def test_each_app_of_a_process_counts_its_requests_and_sends_the_headers(monkeypatch):
    monkeypatch.setenv("BRIGHTLINE_ENV", "development")
    before = count("2xx", "/edge-echo/{n}"), count("4xx", "/edge-echo/{n}"), count("4xx", "none")
    for name in ("edge-a", "edge-b"):  # a second app in one process is measured too
        transport = httpx.ASGITransport(app=echo_app(name))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            ok = await client.post("/edge-echo/3", json={"a": 1})
            assert ok.json() == {"n": 3, "a": 1}
            too_large = await client.post("/edge-echo/4", json={"a": "x" * 100})
            assert too_large.status_code == 413
            assert (await client.post("/nowhere", json={})).status_code == 404
            for response in (ok, too_large):
                assert response.headers["x-content-type-options"] == "nosniff"
                assert response.headers["x-frame-options"] == "DENY"
            duration = REGISTRY.get_sample_value(
                "http_request_duration_seconds_count",
                {"method": "POST", "handler": "/edge-echo/{n}"},
            )
            assert duration and duration >= 2
            assert "http_requests_total" in (await client.get("/metrics")).text
    after = count("2xx", "/edge-echo/{n}"), count("4xx", "/edge-echo/{n}"), count("4xx", "none")
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 2, 2]


def layers(app) -> list[str]:
    """The ASGI callables every request passes through, from the app down to its router."""
    names, layer = [], app.build_middleware_stack()
    while not isinstance(layer, APIRouter):
        names.append(type(layer).__name__)
        layer = layer.app
    return [*names, "APIRouter"]


def test_the_edge_checks_the_request_in_its_own_layer():
    """The body limit and the NUL check are the edge's work, not two ASGI layers more: each
    layer costs every request a call, a closure and a wrapped receive or send."""
    assert layers(echo_app("edge-layers")) == [
        "ServerErrorMiddleware",
        "ExceptionTelemetryMiddleware",
        "AppBodyLimitMiddleware",
        "HttpEdge",
        # the libraries' (brightline.messaging's audit trail, when a test imported it)
        *(m.__name__ for m in SERVICE_MIDDLEWARE),
        "ExceptionMiddleware",
        "AsyncExitStackMiddleware",
        "APIRouter",
    ]


async def test_the_edge_refuses_what_no_route_may_read(monkeypatch):
    monkeypatch.setenv("BRIGHTLINE_ENV", "development")
    transport = httpx.ASGITransport(app=echo_app("edge-refusals"))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

        async def chunks(*parts: bytes):
            for part in parts:
                yield part

        refused = {
            # a chunked body (no Content-Length) counted as it comes
            "chunked": await client.post(
                "/edge-echo/1", content=chunks(b'{"a": "' + b"x" * 40, b"x" * 40 + b'"}')
            ),
            "nul in the body": await client.post("/edge-echo/2", json={"a": "x\u0000y"}),
            "nul in the query": await client.post("/edge-echo/3?q=%00", json={}),
            "bad length": await client.post(
                "/edge-echo/4", content=b"{}", headers={"Content-Length": "two"}
            ),
        }
        as_json = {"Content-Type": "application/json"}
        escaped = await client.post("/edge-echo/5", content=rb'{"a": "\\u0000"}', headers=as_json)
        chunked = await client.post(
            "/edge-echo/6", content=chunks(b'{"a"', b": 1}"), headers=as_json
        )
    assert {k: r.status_code for k, r in refused.items()} == {
        "chunked": 413,
        "nul in the body": 422,
        "nul in the query": 422,
        "bad length": 400,
    }
    for response in refused.values():
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["x-content-type-options"] == "nosniff"
    assert refused["nul in the body"].json()["errors"][0]["type"] == "nul_character"
    # Named by the part of the request that holds it (the body is refused before it is parsed).
    assert refused["nul in the body"].json()["errors"][0]["field"] == "body"
    assert refused["nul in the query"].json()["errors"][0]["field"] == "query"
    # An escaped backslash before u0000 is text, not NUL; a body in two chunks arrives whole.
    assert escaped.json() == {"n": 5, "a": "\\u0000"}
    assert chunked.json() == {"n": 6, "a": 1}


async def test_a_request_of_a_kind_already_seen_finds_its_series(monkeypatch):
    """labels() checks its values and takes a lock on every call: the series of a kind of
    request (method, status class, route) are found once, then kept."""
    monkeypatch.setenv("BRIGHTLINE_ENV", "development")
    looked_up = []
    original = MetricWrapperBase.labels

    def labels(self, *values, **named):
        looked_up.append(values)
        return original(self, *values, **named)

    transport = httpx.ASGITransport(app=echo_app("edge-series"))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.post("/edge-echo/1", json={})).status_code == 200
        monkeypatch.setattr(MetricWrapperBase, "labels", labels)
        before = count("2xx", "/edge-echo/{n}")
        assert (await client.post("/edge-echo/2", json={})).status_code == 200
    assert looked_up == []
    assert count("2xx", "/edge-echo/{n}") == before + 1
