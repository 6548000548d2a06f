"""Session fixtures shared by every test: a real Kafka broker, a real PostgreSQL, and a real
identity provider (Keycloak).

Order of choice, for each: the URL in the environment (KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL,
KEYCLOAK_URL with KEYCLOAK_ADMIN_PASSWORD); else testcontainers when a Docker engine answers
(Kafka, PostgreSQL); else the servers the project starts itself (Kafka and Keycloak from Maven
Central, PostgreSQL from pgserver). Never a mock.

Tests run the services in development mode (BRIGHTLINE_ENV=development): production mode
refuses to start without real secrets.
"""

from __future__ import annotations

import os
import uuid

import pytest

# One broker serves the whole session (each pytest-xdist worker's: `make test` runs two) and
# every test module has topics of its own: at the production default of 12 partitions the broker
# runs out of file handles long before the end of the suite. Tests that are about partitions set
# their own count.
os.environ.setdefault("KAFKA_PARTITIONS", "2")

# Each pytest-xdist worker takes its own part of the ports servers are started on (paths.free_port):
# two workers choosing at random could hand out one port before either server had bound it.
if worker := os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault(
        "BRIGHTLINE_PORT_SHARE",
        f"{int(worker.removeprefix('gw'))}/{os.environ['PYTEST_XDIST_WORKER_COUNT']}",
    )

# Before any service settings are built, and inherited by every service process a test starts.
os.environ.setdefault("BRIGHTLINE_ENV", "development")

INFRA: dict[str, str] = {}
SUMMARY: list[str] = []


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001 - no engine is the normal case here
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory) -> str:
    if url := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        INFRA["kafka"] = f"Kafka from the environment at {url}"
        yield url
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as container:
            INFRA["kafka"] = "Kafka in testcontainers"
            yield container.get_bootstrap_server()
        return
    from brightline.platform.local import LocalKafka

    broker = LocalKafka(tmp_path_factory.mktemp("kafka"))
    bootstrap = broker.start()
    INFRA["kafka"] = (
        f"Apache Kafka {broker.version} (KRaft, jars from Maven Central) at {bootstrap}"
    )
    yield bootstrap
    broker.discard()  # the session's topics go with it: no controlled shutdown


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory) -> str:
    if url := os.environ.get("DATABASE_URL"):
        from brightline.platform.db import server_url

        INFRA["postgres"] = "PostgreSQL from the environment"
        yield server_url(url)
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver="asyncpg") as container:
            INFRA["postgres"] = "PostgreSQL 16 in testcontainers"
            yield container.get_connection_url()
        return
    from brightline.platform.local import LocalPostgres, project_root

    # Not under pytest's tmp: that is private to root, and the server runs as pgserver's own
    # unprivileged user, which must reach its data folder to stop.
    data_dir = project_root() / ".local" / "test-pg" / uuid.uuid4().hex[:8]
    server = LocalPostgres(data_dir)
    url = server.start()
    INFRA["postgres"] = f"{server.version} (embedded, pgserver)"
    yield url
    server.discard()  # the session's databases go with it: no shutdown checkpoint


@pytest.fixture(scope="session")
def oidc_issuer() -> str:
    """The issuer URL of the session's Keycloak (started once; `bearer()` uses the same one).
    Published as BRIGHTLINE_OIDC_ISSUER for every service process a test starts."""
    from brightline.platform.testing import identity_provider

    provider = identity_provider()
    if provider.server is not None:
        INFRA["keycloak"] = (
            f"Keycloak {provider.server.version} (Maven Central distribution) at {provider.issuer}"
        )
    else:
        INFRA["keycloak"] = f"Keycloak from the environment at {provider.issuer}"
    return provider.issuer


@pytest.fixture(scope="module")
def topic_prefix() -> str:
    """Topics of this test module: parallel sessions on one broker never cross, and a module's
    consumers never wade through the events other modules left on shared topics."""
    return f"t{uuid.uuid4().hex[:8]}."


@pytest.fixture
def infra_env(kafka_bootstrap, postgres_server, topic_prefix, oidc_issuer) -> dict:
    """Settings fields every service needs to run against the session's real servers."""
    return {
        "kafka_bootstrap_servers": kafka_bootstrap,
        "database_url": postgres_server,
        "oidc_issuer": oidc_issuer,
        "environment": "development",
        "kafka_topic_prefix": topic_prefix,
        "log_json": False,
    }


def unique_db(service: str) -> str:
    return f"test_{service}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def db_name():
    return unique_db


# What the closing summary prints travels on each test's teardown report (`user_properties`):
# under pytest-xdist the tests run in worker processes and only their reports reach the process
# that prints the summary. Each worker has its own broker, database and Keycloak.
SUMMARY_LINE = "brightline-summary"
INFRA_LINE = "brightline-infrastructure"
_INFRA_SENT: set[str] = set()
_INFRA_SHOWN: dict[str, list[str]] = {}


@pytest.fixture
def report(request):
    """`report(line)`: a figure an issue asks to see (counts after faults, fuzzer totals),
    printed in the run's closing summary even when the test passes."""
    return lambda line: request.node.user_properties.append((SUMMARY_LINE, line))


def pytest_runtest_teardown(item):
    for what, line in INFRA.items():
        if what not in _INFRA_SENT:
            _INFRA_SENT.add(what)
            item.user_properties.append((INFRA_LINE, (what, line)))


def pytest_runtest_logreport(report):
    if report.when != "teardown":
        return  # every phase's report carries the test's properties: read them once
    for name, value in report.user_properties:
        if name == SUMMARY_LINE:
            SUMMARY.append(value)
        elif name == INFRA_LINE:
            what, line = value
            if line not in _INFRA_SHOWN.setdefault(what, []):
                _INFRA_SHOWN[what].append(line)


def pytest_terminal_summary(terminalreporter):
    for what in ("kafka", "postgres", "keycloak"):
        for line in _INFRA_SHOWN.get(what, []):
            terminalreporter.write_line(f"real infrastructure: {line}")
    for line in SUMMARY:
        terminalreporter.write_line(line.strip("\n"))
