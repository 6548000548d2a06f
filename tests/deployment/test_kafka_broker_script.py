"""deploy/kafka/broker.sh, the broker of docker-compose, run here with the project's Kafka jars in
place of the image's bin/ scripts: it boots with SASL/SCRAM on the client listener and SASL/PLAIN
on the controller's, its admin logs in, a client without a login or with a wrong password does
not, and a service user made the way deploy/kafka/acls.sh makes it (kafka-configs.sh) logs in."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from brightline.platform.local import project_root
from brightline.platform.local.kafka import answers_metadata, ensure_jars, scram_client
from brightline.platform.local.paths import free_port
from brightline.platform.testing import eventually

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = uuid.uuid4().hex
TOOLS = {
    "kafka-storage.sh": "kafka.tools.StorageTool",
    "kafka-server-start.sh": "kafka.Kafka",
    "kafka-configs.sh": "kafka.admin.ConfigCommand",
}


@pytest.fixture
def broker():
    root = project_root()
    home = root / ".local" / "test-broker-sh" / uuid.uuid4().hex[:8]
    bin_dir = home / "bin"
    bin_dir.mkdir(parents=True)
    jars = ensure_jars(root)
    log4j = root / "deploy" / "kafka" / "log4j2.properties"
    for tool, main in TOOLS.items():  # what the apache/kafka image's scripts run
        shim = bin_dir / tool
        shim.write_text(
            f"#!/bin/sh\nexec java -Xmx384m -Dlog4j2.configurationFile=file:{log4j} "
            f'-cp "{jars}/*" {main} "$@"\n'
        )
        shim.chmod(0o755)
    cluster_id = subprocess.run(
        ["java", "-cp", f"{jars}/*", "kafka.tools.StorageTool", "random-uuid"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    port, controller_port = free_port(), free_port()
    env = {
        **os.environ,
        "KAFKA_BIN": str(bin_dir),
        "KAFKA_PORT": str(port),
        "KAFKA_CONTROLLER_PORT": str(controller_port),
        "KAFKA_ADVERTISED_HOST": "127.0.0.1",
        "KAFKA_LOG_DIRS": str(home / "data"),
        "KAFKA_CONF_DIR": str(home),
        "KAFKA_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "KAFKA_CLUSTER_ID": cluster_id,
    }
    log = open(home / "broker.log", "wb")
    process = subprocess.Popen(
        ["sh", str(root / "deploy" / "kafka" / "broker.sh")],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    servers = f"127.0.0.1:{port}"
    admin = scram_client("admin", ADMIN_PASSWORD)
    size, still = 0, time.monotonic()
    while not asyncio.run(answers_metadata(servers, **admin)):  # bounded by the log's progress
        assert process.poll() is None, (home / "broker.log").read_text()[-3000:]
        grown = (home / "broker.log").stat().st_size
        if grown != size:
            size, still = grown, time.monotonic()
        assert time.monotonic() - still < 180, "the broker's log stopped growing"
        time.sleep(1)
    yield servers, bin_dir, home
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(60)
    log.close()
    shutil.rmtree(home, ignore_errors=True)


async def test_the_compose_broker_takes_scram_logins_only(broker):
    servers, bin_dir, home = broker
    assert await answers_metadata(servers, **scram_client("admin", ADMIN_PASSWORD))
    assert not await answers_metadata(servers)
    assert not await answers_metadata(servers, **scram_client("admin", "guess-guess-guess"))
    assert not await answers_metadata(servers, **scram_client("intake", "intake-password-1"))
    # The user as deploy/kafka/acls.sh creates it, with the admin's client properties.
    await asyncio.to_thread(
        subprocess.run,
        [
            str(bin_dir / "kafka-configs.sh"),
            "--bootstrap-server",
            servers,
            "--command-config",
            str(home / "admin.properties"),
            "--alter",
            "--entity-type",
            "users",
            "--entity-name",
            "intake",
            "--add-config",
            "SCRAM-SHA-256=[password=intake-password-1]",
        ],
        check=True,
        capture_output=True,
    )
    # The credential reaches the broker through the metadata log: a moment later at most.
    await eventually(
        lambda: answers_metadata(servers, **scram_client("intake", "intake-password-1"))
    )
