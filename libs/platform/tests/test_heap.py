"""A started service's heap is frozen once, so the collector's full passes skip what the
service keeps for its life (brightline.platform.heap)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# A fresh interpreter: the test process has started apps of its own already.
SCRIPT = textwrap.dedent(
    """
    import asyncio, gc, json
    from contextlib import asynccontextmanager
    from brightline.platform.app import create_service_app
    from brightline.platform.settings import ServiceSettings

    @asynccontextmanager
    async def nothing(app):
        yield

    def app(name):
        return create_service_app(
            ServiceSettings(service_name=name, database_name="unused"),
            title="t", description="d", routers=[], lifespan=nothing,
        )

    async def main():
        seen = {"before": [gc.get_freeze_count(), gc.get_threshold()[0]]}
        first = app("heap-a")
        async with first.router.lifespan_context(first):
            seen["started"] = [gc.get_freeze_count(), gc.get_threshold()[0]]
            seen["oldest"] = len(gc.get_objects(generation=2))
            second = app("heap-b")
            async with second.router.lifespan_context(second):
                seen["second"] = [gc.get_freeze_count(), gc.get_threshold()[0]]
        print(json.dumps(seen))

    asyncio.run(main())
    """
)


def test_a_started_service_freezes_its_heap_once_and_spaces_young_collections():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        check=True,
        capture_output=True,
        text=True,
        env={"BRIGHTLINE_ENV": "development", "PATH": ""},
    ).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["before"] == [0, 700]  # CPython's defaults
    frozen, young = seen["started"]
    # The modules, FastAPI's app and routes, pydantic's models: tens of thousands of objects
    # a full collection no longer walks; what is left for it is a few thousand at most.
    assert frozen > 20_000 and seen["oldest"] < 5_000, seen
    assert young == 10_000
    # A second app in the process freezes nothing more (frozen objects freed by their reference
    # counts leave the permanent generation: the count may only fall).
    assert seen["second"][0] <= frozen and seen["second"][1] == young
