"""Dispatch's integration fixtures (helpers live in dispatch_helpers.py beside this file)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dispatch_helpers import dispatch_settings, seed_unit

from brightline.dispatch.main import create_app
from brightline.platform.testing import running


@pytest.fixture(scope="module")
async def client(kafka_bootstrap, postgres_server, topic_prefix):
    """Dispatch running on the real broker and a fresh database, with unit-n and crews A and B."""
    settings = dispatch_settings(
        kafka_bootstrap, postgres_server, topic_prefix, scan_interval_seconds=0.5
    )
    async with running(create_app(settings)) as http:
        await seed_unit(http, "unit-n")
        yield http
