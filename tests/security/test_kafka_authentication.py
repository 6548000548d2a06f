"""The project's own broker with client authentication on (SASL/SCRAM-SHA-256) and the ACLs
generated from the topic registry (brightline.contracts.acls): one principal per service, the
broker's admin the only super user. A plain client gets nothing, a wrong password gets nothing,
intake cannot write casework's topic nor read a topic it does not consume nor join another
service's group, and intake runs end to end through its own principal. This test starts its own
broker (the shared one is never restarted or reconfigured)."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from brightline.contracts import all_topic_names
from brightline.contracts.acls import acls
from brightline.contracts.topics import CALLBACK_RATES, CASEWORK_CASES, INTAKE_TICKETS, SERVICES
from brightline.platform.local import LocalKafka, project_root
from brightline.platform.local.kafka import answers_metadata, scram_client

pytestmark = pytest.mark.integration

ADMIN = "admin"
PASSWORDS = {name: secrets.token_urlsafe(16) for name in (ADMIN, *SERVICES)}
PREFIX = "acl."


@pytest.fixture(scope="module")
def broker():
    data_dir = project_root() / ".local" / "test-kafka-sasl" / uuid.uuid4().hex[:8]
    kafka = LocalKafka(data_dir, heap="384m", scram_users=PASSWORDS, acls=acls(PREFIX))
    kafka.start(timeout=180)

    async def create_topics() -> None:  # the topic job's work, as the admin
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers, **as_(ADMIN))
        await admin.start()
        try:
            await admin.create_topics(
                [NewTopic(PREFIX + n, 1, 1) for n in all_topic_names()], timeout_ms=30000
            )
        finally:
            await admin.close()

    asyncio.run(create_topics())
    yield kafka
    kafka.discard()


def as_(user: str) -> dict:
    return scram_client(user, PASSWORDS[user])


@pytest.fixture
def principal(monkeypatch):
    """The service settings' SCRAM credentials, as docker-compose and k8s give them."""

    def use(user: str) -> None:
        monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
        monkeypatch.setenv("KAFKA_SASL_USERNAME", user)
        monkeypatch.setenv("KAFKA_SASL_PASSWORD", PASSWORDS[user])

    return use


async def read(servers: str, topic: str, group: str, user: str, until=lambda seen: False):
    """Records of `topic` read as `user` in `group` (raises what the broker refuses)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=servers,
        group_id=group,
        auto_offset_reset="earliest",
        **as_(user),
    )
    seen: list[bytes] = []
    try:
        await consumer.start()
        for _ in range(40):
            batches = await consumer.getmany(timeout_ms=1000)
            seen += [m.value for ms in batches.values() for m in ms]
            if until(seen):
                break
        return seen
    finally:
        await consumer.stop()


async def records_in(servers: str, topic: str) -> int:
    """How many records `topic` (one partition) has ever taken: its end offset, read as the
    admin. Exact at once, where reading it empty meant waiting out the read's rounds."""
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, **as_(ADMIN))
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        return (await consumer.end_offsets([partition]))[partition]
    finally:
        await consumer.stop()


async def test_a_plain_client_and_a_wrong_password_are_refused(broker):
    servers = broker.bootstrap_servers
    assert await answers_metadata(servers, **as_(ADMIN))
    assert not await answers_metadata(servers)  # no authentication: refused
    assert not await answers_metadata(servers, **scram_client(ADMIN, "guess-guess-guess"))


async def test_intake_writes_its_own_topic_and_not_caseworks(broker, principal):
    from brightline.messaging.kafka import create_producer

    principal("intake")
    producer = create_producer(broker.bootstrap_servers, "intake")
    await producer.start()
    try:
        await asyncio.wait_for(producer.send_and_wait(PREFIX + INTAKE_TICKETS.name, b"own"), 60)
        with pytest.raises((KafkaError, asyncio.TimeoutError)) as refused:
            await asyncio.wait_for(
                producer.send_and_wait(PREFIX + CASEWORK_CASES.name, b"forged case"), 30
            )
    finally:
        await producer.stop()
    if isinstance(refused.value, KafkaError):
        assert isinstance(refused.value, TopicAuthorizationFailedError)
    # Nothing reached casework's topic: its end offset, as the admin reads it, is still 0 (the
    # same reading counts intake's own record).
    assert await records_in(broker.bootstrap_servers, PREFIX + INTAKE_TICKETS.name) >= 1
    assert await records_in(broker.bootstrap_servers, PREFIX + CASEWORK_CASES.name) == 0


@pytest.mark.parametrize("service", SERVICES)
async def test_every_services_producer_starts_as_its_own_principal(broker, principal, service):
    """The outbox relay's idempotent producer asks for a producer id at start, also in the
    console, which owns no topic."""
    from brightline.messaging.kafka import create_producer

    principal(service)
    producer = create_producer(broker.bootstrap_servers, service)
    try:
        await asyncio.wait_for(producer.start(), 60)
    finally:
        await producer.stop()


async def test_intake_reads_only_what_it_consumes_in_its_own_group(broker):
    servers = broker.bootstrap_servers
    with pytest.raises(TopicAuthorizationFailedError):
        await read(servers, PREFIX + CALLBACK_RATES.name, "intake", "intake")
    with pytest.raises(GroupAuthorizationFailedError):  # a topic it reads, another's group
        await read(servers, PREFIX + CASEWORK_CASES.name, "casework", "intake")


async def test_intake_runs_end_to_end_through_its_own_principal(
    broker, principal, postgres_server, oidc_issuer, db_name
):
    """Intake with its own credentials (KAFKA_SASL_USERNAME=intake) and no topic creation of
    its own: its relay publishes a ticket, dispatch's principal reads it in dispatch's group,
    and intake's consumer joins its group on the topics it consumes."""
    from brightline.platform.auth import Role
    from brightline.platform.testing import bearer, eventually, running, service_app

    principal("intake")
    app = service_app(
        "intake",
        kafka_bootstrap_servers=broker.bootstrap_servers,
        database_url=postgres_server,
        database_name=db_name("intake"),
        kafka_topic_prefix=PREFIX,
        kafka_create_topics=False,
        environment="development",
        oidc_issuer=oidc_issuer,
        log_json=False,
    )
    async with running(app) as client:
        recorded = await client.post(
            "/tickets",
            json={
                "ticket_type": "consultation",
                "description": "认证的代理",
                "caller_name": "赵六",
                "phone": "13911112222",
            },
            headers=bearer(Role.AGENT, subject="agent-81"),
        )
        assert recorded.status_code == 201, recorded.text
        ticket = recorded.json()["id"].encode()
        seen = await read(
            broker.bootstrap_servers,
            PREFIX + INTAKE_TICKETS.name,
            "dispatch",
            "dispatch",
            until=lambda s: any(ticket in v for v in s),
        )
        assert any(ticket in v for v in seen)

        async def ready() -> bool:
            answer = await client.get("/readyz")
            return answer.status_code == 200 and answer.json()["checks"]["consumer"]

        await eventually(ready, timeout=120)
        # Consuming: a record dispatch writes on its work-order topic reaches intake's
        # consumer, which dead-letters it (not a CloudEvent) to the .dlt twin it may write.
        from aiokafka import AIOKafkaProducer

        from brightline.contracts.topics import DISPATCH_WORK_ORDERS

        poison = uuid.uuid4().hex.encode()
        dispatch = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, **as_("dispatch"))
        await dispatch.start()
        try:
            await dispatch.send_and_wait(PREFIX + DISPATCH_WORK_ORDERS.name, poison)
        finally:
            await dispatch.stop()
        dead = await read(
            broker.bootstrap_servers,
            PREFIX + DISPATCH_WORK_ORDERS.dead_letter,
            f"check-{uuid.uuid4().hex[:6]}",
            ADMIN,
            until=lambda s: poison in s,
        )
        assert poison in dead


def port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_make_run_with_kafka_acls_runs_a_service_through_its_own_principal():
    """`make run KAFKA_ACLS=1`: the stack's broker with SASL/SCRAM and the generated ACLs, topics
    created by the admin, and intake ready (database, producer, consumer assigned) as itself."""
    import os
    import subprocess
    import sys

    from brightline.platform.local.paths import free_port
    from brightline.platform.local.stack import SERVICES as PORTS

    home = project_root() / ".local" / "test-stack-acls" / uuid.uuid4().hex[:8]
    kafka_port = free_port()
    while not port_is_free(kafka_port + 1):  # the controller listens on the next port
        kafka_port = free_port()
    try:
        started = subprocess.run(
            [
                sys.executable,
                "-m",
                "brightline.platform.local.stack",
                "--home",
                str(home),
                "--kafka-port",
                str(kafka_port),
                "--keycloak-port",
                str(free_port()),
                "--services",
                "intake",
                "--port-offset",
                str(free_port() - PORTS["intake"]),
                "--no-demo",
                "--exit-when-ready",
                "--kafka-acls",
            ],
            cwd=project_root(),
            capture_output=True,
            text=True,
            timeout=900,
            env={k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "KAFKA_"))},
        )
        assert started.returncode == 0, started.stdout + started.stderr
        assert "SASL/SCRAM and ACLs on" in started.stdout
        assert "intake" in started.stdout and "ready" in started.stdout
        log = (home / "logs" / "intake.log").read_text()
        assert "TopicAuthorizationFailed" not in log and "ClusterAuthorizationFailed" not in log
    finally:
        shutil.rmtree(home, ignore_errors=True)
