"""A service past its bounds answers a deliberate 503 (problem+json, Retry-After) and keeps its
connections: never a 500, never a reset.

In the storm bench intake answered 500 to calls that waited 30 s for a pooled connection
(sqlalchemy's pool timeout: every request started at once and they all crawled), and clients
got connection resets when uvicorn closed an idle keep-alive connection (after 5 s) as the
client sent its next request on it."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import httpx
import pytest
import sqlalchemy.exc
import uvicorn
from fastapi import APIRouter, Depends

from brightline.platform.admission import Admission
from brightline.platform.app import create_service_app
from brightline.platform.auth import Public
from brightline.platform.cli import server_options
from brightline.platform.local.paths import free_port
from brightline.platform.settings import ServiceSettings


@asynccontextmanager
async def nothing(app):
    yield


def busy_app(name: str, release: asyncio.Event, at_work: dict, **settings):
    router = APIRouter(tags=["busy"])

    @router.post("/work", dependencies=[Depends(Public("a test route"))])
    async def work() -> dict:
        at_work["now"] += 1
        at_work["entered"].set()
        at_work["most"] = max(at_work["most"], at_work["now"])
        try:
            await release.wait()
        finally:
            at_work["now"] -= 1
        return {"done": True}

    @router.post("/pool", dependencies=[Depends(Public("a test route"))])
    async def pool() -> dict:
        raise sqlalchemy.exc.TimeoutError("QueuePool limit of size 1 overflow 0 reached")

    return create_service_app(
        ServiceSettings(service_name=name, database_name="unused", **settings),
        title="t",
        description="d",
        routers=[router],
        lifespan=nothing,
    )


def assert_overloaded(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"
    assert response.json()["type"].endswith("/overloaded")


async def test_requests_beyond_the_queue_are_shed_with_503_and_the_rest_wait_their_turn(
    monkeypatch,
):
    monkeypatch.setenv("BRIGHTLINE_ENV", "development")
    release, at_work = asyncio.Event(), {"now": 0, "most": 0, "entered": asyncio.Event()}
    app = busy_app(
        "overload-a",
        release,
        at_work,
        http_max_inflight=1,
        http_max_queued=2,
        http_queue_seconds=60,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as client:
        calls = [asyncio.create_task(client.post("/work")) for _ in range(5)]
        # One at work, two waiting: the other two are answered at once.
        done, _ = await asyncio.wait(calls, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        while len(done) < 2:
            more, _ = await asyncio.wait(
                [c for c in calls if c not in done], timeout=30, return_when=asyncio.FIRST_COMPLETED
            )
            assert more, "the requests beyond the queue were not answered"
            done |= more
        assert len(done) == 2
        for call in done:
            assert_overloaded(call.result())
        # A probe is never queued behind the work.
        assert (await client.get("/healthz")).status_code == 200
        release.set()
        answers = await asyncio.gather(*calls)
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 503, 503]
    assert at_work["most"] == 1


async def test_a_request_that_waited_too_long_is_shed_and_a_pool_timeout_is_a_503(monkeypatch):
    monkeypatch.setenv("BRIGHTLINE_ENV", "development")
    release, at_work = asyncio.Event(), {"now": 0, "most": 0, "entered": asyncio.Event()}
    app = busy_app("overload-b", release, at_work, http_max_inflight=1, http_queue_seconds=0.2)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as client:
        first = asyncio.create_task(client.post("/work"))
        await asyncio.wait_for(at_work["entered"].wait(), 30)
        assert_overloaded(await client.post("/work"))
        release.set()
        assert (await first).status_code == 200
        # A pooled connection that never came free is overload too, not a bug.
        assert_overloaded(await client.post("/pool"))


async def test_an_idle_keep_alive_connection_outlives_a_clients_pool_idle_time(monkeypatch):
    """uvicorn's default closes a connection idle for 5 s; a client pool (aiohttp keeps idle
    connections 15 s) that sends its next request as the close is on its way gets a reset.
    The services keep idle connections longer than clients do, so the client closes first."""
    monkeypatch.setenv("BRIGHTLINE_ENV", "development")
    settings = ServiceSettings(service_name="overload-c", database_name="unused")
    app = busy_app("overload-c", asyncio.Event(), {"now": 0, "most": 0, "entered": asyncio.Event()})
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", **server_options(settings))
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "the server did not start"
            await asyncio.sleep(0.05)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
        answers = []
        for pause in (0, 6):  # longer than uvicorn's 5 s default, far below a client's 15 s
            await asyncio.sleep(pause)
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(
                next(
                    line.split(b":")[1]
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
            )
            await reader.readexactly(length)
            answers.append(head.split(b"\r\n")[0])
        writer.close()
        assert answers == [b"HTTP/1.1 200 OK"] * 2
    finally:
        server.should_exit = True
        await serving


async def test_a_waiter_cancelled_as_the_queue_moves_on_leaves_no_trace():
    """The client goes away (its task is cancelled, its turn with it) and, before its task runs
    again, a request finishes: leave() drops the cancelled turn from the queue itself."""
    admission = Admission(limit=1, queue=4, wait_seconds=60)
    assert await admission.enter()
    waiter = asyncio.create_task(admission.enter())
    await asyncio.sleep(0)  # it waits for its turn
    assert len(admission.waiting) == 1
    waiter.cancel()
    admission.leave()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (admission.busy, len(admission.waiting)) == (0, 0)
    assert await admission.enter()
