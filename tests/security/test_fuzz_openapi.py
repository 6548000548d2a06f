"""Fuzz every service's OpenAPI with schemathesis, in process, with the app's lifespan running
against the real broker and database: no request may get a 5xx, and every 4xx must be
RFC 9457 problem+json.

Schemathesis generates the cases (valid ones, and invalid ones that break the schema); they
are sent through httpx's ASGI transport on the test's own event loop, the loop the app's
database pool and Kafka clients live on. Services and operations are found at run time.
FUZZ_EXAMPLES scales the number of cases per operation and mode.
"""

from __future__ import annotations

import asyncio
import logging
import os

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase

from brightline.platform.auth import Role
from brightline.platform.problems import PROBLEM_JSON
from brightline.platform.testing import bearer, running, service_app, service_names

pytestmark = pytest.mark.integration

SERVICES = service_names()
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
STREAM_WAIT = 3.0  # seconds; only an event stream is still answering after this
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
# Every role at once, and identity claims, so the fuzzer reaches past authorisation.
ALL_ROLES = bearer(
    *Role,
    subject="fuzz-1",
    crew_id="crew-1",
    department_id="dept-1",
    unit_id="unit-1",
    staff_no="1001",
    name="模糊",
)


def generate(operation, mode) -> list:
    cases: list = []

    @hypothesis.settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(operation.as_strategy(generation_mode=mode))
    def collect(case):
        cases.append(case)

    try:
        collect()
    except hypothesis.errors.Unsatisfiable:
        pass  # some operations have no invalid form (no parameters, no body)
    return cases


def request_of(case) -> dict:
    kwargs = case.as_transport_kwargs(base_url="http://test", headers=ALL_ROLES)
    out = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "headers": kwargs.get("headers") or {},
        "params": kwargs.get("params"),
    }
    if "json" in kwargs:
        out["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        out["content" if isinstance(data, (bytes, str)) else "data"] = data
    if kwargs.get("files"):
        out["files"] = kwargs["files"]
    return out


@pytest.mark.parametrize("service", SERVICES)
async def test_fuzzing_the_openapi_finds_no_5xx_and_only_problem_json_rejections(
    service, infra_env, db_name, report
):
    app = service_app(service, **infra_env, database_name=db_name(service))
    counts = {"operations": 0, "cases": 0, "2xx": 0, "4xx": 0, "5xx": 0}
    failures: list[str] = []
    async with running(app) as client:
        logging.getLogger("httpx").setLevel(logging.WARNING)
        schema = schemathesis.openapi.from_dict(app.openapi())
        for result in schema.get_all_operations():
            operation = result.ok()
            counts["operations"] += 1
            for mode in MODES:
                for case in generate(operation, mode):
                    counts["cases"] += 1
                    request = request_of(case)
                    try:
                        response = await asyncio.wait_for(client.request(**request), STREAM_WAIT)
                    except TimeoutError:
                        counts["held-open streams"] = counts.get("held-open streams", 0) + 1
                        break  # an event stream (text/event-stream) answering forever: once is enough
                    except Exception as error:  # noqa: BLE001 - an exception escaping the app is a 500
                        counts["5xx"] += 1
                        failures.append(
                            f"{operation.label} [{mode.value}] raised {error!r}\n  "
                            f"{case.as_curl_command()[:600]}"
                        )
                        continue
                    status = response.status_code
                    if (
                        status == 502
                        and response.headers.get("content-type", "").startswith(PROBLEM_JSON)
                        and response.json().get("type", "").endswith("/upstream-unavailable")
                    ):
                        # A backend-for-frontend whose upstream services are not running here
                        # answers as it must; the requests it forwards are fuzzed at the upstream.
                        counts["502 upstream not running"] = (
                            counts.get("502 upstream not running", 0) + 1
                        )
                        continue
                    counts[f"{status // 100}xx"] = counts.get(f"{status // 100}xx", 0) + 1
                    if status >= 500:
                        failures.append(
                            f"{operation.label} [{mode.value}] -> {status} {response.text[:300]}\n  "
                            f"{case.as_curl_command()[:600]}"
                        )
                    elif 400 <= status < 500 and not response.headers.get(
                        "content-type", ""
                    ).startswith(PROBLEM_JSON):
                        failures.append(
                            f"{operation.label} [{mode.value}] -> {status} as "
                            f"{response.headers.get('content-type')!r}, not problem+json: "
                            f"{response.text[:200]}"
                        )
    report(
        f"fuzzer, {service}: {len(failures)} failures; fuzzed {counts['operations']} operations with {counts['cases']} cases: "
        + ", ".join(f"{k} {v}" for k, v in counts.items() if k != "operations" and k != "cases")
    )
    assert counts["operations"] > 0
    assert not failures, f"{service}: {len(failures)} failures\n" + "\n".join(failures[:30])
