"""The project's own broker with client authentication on (SASL/SCRAM-SHA-256) and the
authorizer refusing whatever no ACL allows: a plain client gets nothing, a wrong password gets
nothing, the admin gets in, and an authenticated service user without an ACL cannot write.
This test starts its own broker (the shared one is never restarted or reconfigured)."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from brightline.platform.local import LocalKafka, project_root
from brightline.platform.local.kafka import answers_metadata, scram_client

pytestmark = pytest.mark.integration

ADMIN, INTAKE = "admin", "intake"
PASSWORDS = {ADMIN: secrets.token_urlsafe(16), INTAKE: secrets.token_urlsafe(16)}


@pytest.fixture(scope="module")
def broker():
    data_dir = project_root() / ".local" / "test-kafka-sasl" / uuid.uuid4().hex[:8]
    kafka = LocalKafka(data_dir, heap="384m", scram_users=PASSWORDS)
    kafka.start(timeout=180)
    yield kafka
    kafka.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


async def test_a_plain_client_and_a_wrong_password_are_refused(broker):
    servers = broker.bootstrap_servers
    assert await answers_metadata(servers, **scram_client(ADMIN, PASSWORDS[ADMIN]))
    assert not await answers_metadata(servers)  # no authentication: refused
    assert not await answers_metadata(servers, **scram_client(ADMIN, "guess-guess-guess"))


async def test_a_service_user_without_an_acl_cannot_write(broker):
    servers = broker.bootstrap_servers
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, **scram_client(ADMIN, PASSWORDS[ADMIN]))
    await admin.start()
    try:
        await admin.create_topics([NewTopic("acl.check", num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=servers,
        request_timeout_ms=5000,
        **scram_client(INTAKE, PASSWORDS[INTAKE]),
    )
    await producer.start()
    try:
        with pytest.raises((KafkaError, asyncio.TimeoutError)):
            await asyncio.wait_for(producer.send_and_wait("acl.check", b"x"), 20)
    finally:
        await producer.stop()


async def test_a_service_runs_on_the_authenticated_broker(
    broker, postgres_server, oidc_issuer, db_name, monkeypatch
):
    """A service given its SCRAM credentials (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_USERNAME,
    KAFKA_SASL_PASSWORD) produces and consumes there like on a plaintext broker."""
    from aiokafka import AIOKafkaConsumer

    from brightline.contracts.topics import INTAKE_TICKETS
    from brightline.platform.auth import Role
    from brightline.platform.testing import bearer, running, service_app

    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", ADMIN)
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", PASSWORDS[ADMIN])
    app = service_app(
        "intake",
        kafka_bootstrap_servers=broker.bootstrap_servers,
        database_url=postgres_server,
        database_name=db_name("intake"),
        kafka_topic_prefix="sasl.",
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
        consumer = AIOKafkaConsumer(
            f"sasl.{INTAKE_TICKETS.name}",
            bootstrap_servers=broker.bootstrap_servers,
            auto_offset_reset="earliest",
            **scram_client(ADMIN, PASSWORDS[ADMIN]),
        )
        await consumer.start()
        try:
            seen: list[bytes] = []
            for _ in range(30):
                batches = await consumer.getmany(timeout_ms=1000)
                seen += [m.value for ms in batches.values() for m in ms]
                if any(recorded.json()["id"].encode() in v for v in seen):
                    break
            assert any(recorded.json()["id"].encode() in v for v in seen)
        finally:
            await consumer.stop()
