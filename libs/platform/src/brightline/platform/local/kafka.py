"""A single-node KRaft Kafka broker run from Apache Kafka's jars on Maven Central.

The jars are fetched once with Maven (deploy/kafka/pom.xml) into .cache/kafka/<version>/jars;
storage is formatted with kafka.tools.StorageTool; the broker runs as `java -cp 'jars/*'
kafka.Kafka server.properties` on 127.0.0.1 and counts as ready only when it answers a
metadata request.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from brightline.platform.local.paths import free_port, project_root, remove_in_background
from brightline.platform.local.progress import Progress

log = logging.getLogger(__name__)


def kafka_version(root: Path | None = None) -> str:
    pom = (root or project_root()) / "deploy" / "kafka" / "pom.xml"
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom.read_text())
    if not match:
        raise ValueError(f"{pom} declares no <kafka.version>")
    return match.group(1)


def ensure_jars(root: Path | None = None) -> Path:
    """Copy the broker's runtime classpath from Maven once; later calls return at once."""
    root = root or project_root()
    version = kafka_version(root)
    target = root / ".cache" / "kafka" / version
    jars = target / "jars"
    done = target / ".complete"
    if done.exists():
        return jars
    target.mkdir(parents=True, exist_ok=True)
    # Several test sessions may start at once; one fetches, the others wait for it.
    with open(target / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return jars
        if shutil.which("mvn") is None:
            raise RuntimeError("Maven (mvn) is needed once to fetch the Kafka jars")
        shutil.rmtree(jars, ignore_errors=True)
        log.info("fetching Kafka %s jars with Maven into %s", version, jars)
        subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(root / "deploy" / "kafka" / "pom.xml"),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={jars}",
            ],
            check=True,
        )
        if not (jars / f"kafka_2.13-{version}.jar").exists():
            raise RuntimeError(f"Maven finished but kafka_2.13-{version}.jar is missing in {jars}")
        done.touch()
    return jars


SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={log_dir}
num.partitions={partitions}
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
# Topics are created by the project (brightline.messaging.topics), never by a typo.
auto.create.topics.enable=false
log.retention.hours=168
log.roll.hours=24
log.segment.bytes=67108864
"""


SASL_PROPERTIES = """\
# Clients authenticate with SASL/SCRAM-SHA-256 (users created at format time); the authorizer
# refuses whatever no ACL allows. The controller listener stays on loopback, inside the broker.
listeners=SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:{port}
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
inter.broker.listener.name=SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=\
org.apache.kafka.common.security.scram.ScramLoginModule required \
username="{admin}" password="{admin_password}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:{admin};User:ANONYMOUS
"""


class AclRule(Protocol):
    """The shape of brightline.contracts.acls.Acl (platform does not import contracts)."""

    @property
    def principal(self) -> str: ...
    @property
    def resource_type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def pattern(self) -> str: ...
    @property
    def operation(self) -> str: ...


class LocalKafka:
    """Start, wait for, and stop one broker. Ports stay fixed across restarts.

    `scram_users` ({name: password}, the first one the broker's own admin) switches client
    authentication on: SASL/SCRAM-SHA-256 and ACLs; a plain client is refused. `acls` (rules
    shaped like brightline.contracts.acls.Acl) are created by the admin once the broker is up."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        partitions: int = 3,
        heap: str = "768m",
        root: Path | None = None,
        scram_users: dict[str, str] | None = None,
        acls: Iterable[AclRule] = (),
    ) -> None:
        self.scram_users = dict(scram_users or {})
        self.acls = list(acls)
        if self.acls and not self.scram_users:
            raise ValueError("ACLs need authenticated users (scram_users)")
        self.root = root or project_root()
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.controller_port = controller_port or free_port()
        self.partitions = partitions
        self.heap = heap
        self.version = kafka_version(self.root)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _java(self, jars: Path, *args: str, **kwargs: Any) -> list[str]:
        log4j = self.root / "deploy" / "kafka" / "log4j2.properties"
        return [
            "java",
            "-Xms256m",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile=file:{log4j}",
            "-cp",
            f"{jars}/*",
            *args,
        ]

    def _configure(self, jars: Path) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        props = self.data_dir / "server.properties"
        text = SERVER_PROPERTIES.format(
            port=self.port,
            controller_port=self.controller_port,
            log_dir=self.data_dir / "logs",
            partitions=self.partitions,
        )
        if self.scram_users:
            admin, admin_password = next(iter(self.scram_users.items()))
            drop = ("listeners=", "advertised.listeners=", "listener.security", "inter.broker")
            text = "".join(
                line for line in text.splitlines(keepends=True) if not line.startswith(drop)
            ) + SASL_PROPERTIES.format(
                port=self.port,
                controller_port=self.controller_port,
                admin=admin,
                admin_password=admin_password,
            )
        props.write_text(text)
        cluster_file = self.data_dir / "cluster.id"
        if not cluster_file.exists():
            out = subprocess.run(
                self._java(jars, "kafka.tools.StorageTool", "random-uuid"),
                check=True,
                capture_output=True,
                text=True,
            )
            cluster_file.write_text(out.stdout.strip().splitlines()[-1])
        subprocess.run(
            self._java(
                jars,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_file.read_text().strip(),
                "-c",
                str(props),
                "--ignore-formatted",
                *(
                    arg
                    for name, password in self.scram_users.items()
                    for arg in ("--add-scram", f"SCRAM-SHA-256=[name={name},password={password}]")
                ),
            ),
            check=True,
            capture_output=True,
        )
        return props

    def start(
        self,
        timeout: float = 90.0,
        *,
        on_spawn: Callable[[int], None] | None = None,
    ) -> str:
        """Start the broker and wait until it answers a metadata request. `on_spawn` gets the
        broker's pid (its own process group) as soon as it exists, before the wait.

        The wait is bounded by progress, not by a clock sized for a quiet machine: it gives up
        when the broker has exited, or when its log has not grown for `timeout` seconds."""
        if self.process and self.process.poll() is None:
            return self.bootstrap_servers
        jars = ensure_jars(self.root)
        props = self._configure(jars)
        log_path = self.data_dir / "kafka.log"
        log_file = open(log_path, "ab")
        self.process = subprocess.Popen(
            self._java(jars, "kafka.Kafka", str(props)),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log_file.close()
        if on_spawn is not None:
            on_spawn(self.process.pid)
        progress = Progress(lambda: log_path.stat().st_size, stall=timeout)
        while not progress.stalled():
            if self.process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"Kafka exited with {self.process.returncode}:\n{tail}")
            if asyncio.run(answers_metadata(self.bootstrap_servers, **self.admin_credentials())):
                if self.acls:
                    asyncio.run(
                        create_acls(self.bootstrap_servers, self.acls, **self.admin_credentials())
                    )
                log.info("Kafka %s (KRaft) ready on %s", self.version, self.bootstrap_servers)
                return self.bootstrap_servers
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"Kafka made no progress (its log did not grow) for {timeout}s")

    def stop(self, timeout: float = 30.0) -> None:
        """Controlled shutdown with SIGTERM; SIGKILL only if it hangs."""
        if not self.process or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def discard(self) -> None:
        """Kill the broker and remove its data folder (in the background): for a throwaway one
        (a test session's), whose controlled shutdown would only write state nobody reads again."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        remove_in_background(self.data_dir)

    def admin_credentials(self) -> dict[str, str]:
        """aiokafka keyword arguments of the broker's admin user (empty without SCRAM)."""
        if not self.scram_users:
            return {}
        name, password = next(iter(self.scram_users.items()))
        return scram_client(name, password)

    def restart(self) -> None:
        self.stop()
        self.start()


def scram_client(username: str, password: str) -> dict[str, str]:
    """aiokafka keyword arguments for a SASL/SCRAM-SHA-256 client."""
    return {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": username,
        "sasl_plain_password": password,
    }


# Kafka's wire codes (org.apache.kafka.common.{resource,acl}) for the rules LocalKafka creates.
RESOURCE_TYPES = {"TOPIC": 2, "GROUP": 3, "CLUSTER": 4}
PATTERN_TYPES = {"LITERAL": 3, "PREFIXED": 4}
OPERATIONS = {"READ": 3, "WRITE": 4, "IDEMPOTENT_WRITE": 12}
ALLOW = 3


async def create_acls(bootstrap_servers: str, rules: Iterable[AclRule], **client: Any) -> None:
    """Create ALLOW rules (principal, resource_type, name, pattern, operation) with the admin.
    aiokafka's admin client has no create_acls; its CreateAcls request goes to any broker,
    which hands it to the KRaft controller, one rule per request."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import for_code
    from aiokafka.protocol.admin import CreateAclsRequest

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client)
    await admin.start()
    try:
        for rule in rules:
            response = await admin._send_request(  # noqa: SLF001 - see the docstring
                CreateAclsRequest(
                    RESOURCE_TYPES[rule.resource_type],
                    rule.name,
                    PATTERN_TYPES[rule.pattern],
                    rule.principal,
                    "*",
                    OPERATIONS[rule.operation],
                    ALLOW,
                )
            )
            for code, message in response.creation_responses:
                if code:
                    raise for_code(code)(f"{rule}: {message}")
    finally:
        await admin.close()


async def answers_metadata(bootstrap_servers: str, **client: Any) -> bool:
    """True when the broker answers a metadata request (the only honest readiness check)."""
    from aiokafka.admin import AIOKafkaAdminClient

    # While the broker boots, aiokafka logs every refused connection as an error.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=3000, **client
    )
    try:
        await admin.start()
        await admin.list_topics()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not yet"
        return False
    finally:
        try:
            await admin.close()
        except Exception:  # noqa: BLE001
            pass
        logging.getLogger("aiokafka").setLevel(logging.NOTSET)
