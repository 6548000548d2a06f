"""Kafka's ACLs come from one source, the topic registry: the generated init script is current,
the registry agrees with what every service actually subscribes to, the rules give each service
its own topics only, and docker-compose runs the broker with SASL/SCRAM, the authorizer and the
script, each service logging in as itself with metrics on the internal port."""

from pathlib import Path

import yaml

from brightline.contracts import TOPICS
from brightline.contracts.acls import Acl, acls, default_path, render
from brightline.contracts.topics import SERVICES, SUBSCRIPTIONS, consumed_by

ROOT = Path(__file__).resolve().parents[2]


def test_the_init_script_is_generated_from_the_registry():
    assert default_path() == ROOT / "deploy" / "kafka" / "acls.sh"
    assert default_path().read_text() == render(), "run `make docs`"


def test_the_registry_is_what_the_services_subscribe_to():
    from brightline.callback import consumers as callback
    from brightline.casework import consumers as casework
    from brightline.console.live import LIVE_TOPICS
    from brightline.dispatch import consumers as dispatch
    from brightline.intake import consumers as intake
    from brightline.records import consumers as records
    from brightline.sla_monitor import consumers as sla_monitor

    subscribed = {
        "intake": intake.TOPICS,
        "dispatch": dispatch.TOPICS,
        "casework": casework.TOPICS,
        "callback": callback.TOPICS,
        "sla_monitor": sla_monitor.TOPICS,
        "records": records.TOPICS,
        "console": [],  # the console owns no data: it consumes only through its live view
    }
    for service, topics in subscribed.items():
        assert sorted(t.name for t in consumed_by(service)) == sorted(t.name for t in topics)
    [live] = [s for s in SUBSCRIPTIONS if s.group == "console-live-"]
    assert sorted(t.name for t in live.topics) == sorted(t.name for t in LIVE_TOPICS)


def test_each_service_writes_only_its_own_topics_and_reads_only_what_it_consumes():
    rules = acls("p.")
    writes = {(r.principal, r.name) for r in rules if r.operation == "WRITE"}
    reads = {(r.principal, r.name) for r in rules if r.operation == "READ"}
    for topic in TOPICS.values():
        writers = {who for who, name in writes if name == "p." + topic.name}
        assert writers == {f"User:{topic.owner}"}, topic.name
        readers = {who for who, name in reads if name == "p." + topic.name}
        assert readers == {f"User:{s.service}" for s in SUBSCRIPTIONS if topic in s.topics}
    assert ("User:intake", "p.casework.cases") not in writes
    assert ("User:intake", "p.callback.rates") not in reads
    assert Acl("User:intake", "GROUP", "intake", "LITERAL", "READ") in rules
    assert not any(
        r.resource_type == "GROUP" and r.name == "casework"
        for r in rules
        if r.principal == "User:intake"
    )
    assert {r.principal for r in rules} == {f"User:{s}" for s in SERVICES}


def test_compose_runs_the_broker_with_scram_acls_and_one_principal_per_service():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    broker = (ROOT / "deploy" / "kafka" / "broker.sh").read_text()
    assert "StandardAuthorizer" in broker and "allow.everyone.if.no.acl.found=false" in broker
    assert "super.users=User:admin\n" in broker and "ANONYMOUS" not in broker
    assert "--add-scram" in broker
    assert "./deploy/kafka:/opt/brightline-kafka:ro" in services["kafka"]["volumes"]
    init = services["kafka-acls"]
    assert init["image"] == services["kafka"]["image"]
    assert init["command"][-1].endswith("admin.sh")
    assert "acls.sh" in (ROOT / "deploy" / "kafka" / "admin.sh").read_text()
    for service in SERVICES:
        assert (
            f"${{KAFKA_PASSWORD_{service.upper()}:?"
            in init["environment"][f"KAFKA_PASSWORD_{service.upper()}"]
        )
        env = services[service]["environment"]
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
        assert env["KAFKA_SASL_USERNAME"] == service
        assert f"KAFKA_PASSWORD_{service.upper()}" in env["KAFKA_SASL_PASSWORD"]
        assert env["KAFKA_CREATE_TOPICS"] == "false" and env["METRICS_PORT"] == "9464"
    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = [
        t
        for job in prometheus["scrape_configs"]
        for c in job["static_configs"]
        for t in c["targets"]
    ]
    assert {f"{s}:9464" for s in SERVICES} <= set(targets)
    assert not any(t.endswith(":8000") for t in targets)


def test_the_script_hands_kafka_acls_exactly_the_registrys_rules(tmp_path):
    """acls.sh run with stand-ins for kafka-configs.sh and kafka-acls.sh that record their
    arguments: the rules they were given, read back, are the registry's, under the prefix."""
    import os
    import subprocess

    calls = tmp_path / "calls"
    for tool in ("kafka-configs.sh", "kafka-acls.sh"):
        shim = tmp_path / tool
        shim.write_text(f'#!/bin/sh\nprintf "%s\\037" {tool} "$@" >> {calls}\necho >> {calls}\n')
        shim.chmod(0o755)
    env = {
        "PATH": os.environ["PATH"],
        "KAFKA_BIN": str(tmp_path),
        "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
        "KAFKA_ADMIN_CONFIG": "/tmp/admin.properties",
        "KAFKA_TOPIC_PREFIX": "p.",
        **{f"KAFKA_PASSWORD_{s.upper()}": f"pw-{s}" for s in SERVICES},
    }
    subprocess.run(["sh", str(default_path())], env=env, check=True)
    users, rules = {}, set()
    for line in calls.read_text().splitlines():
        tool, *args = line.rstrip("\x1f").split("\x1f")
        assert args[:4] == [
            "--bootstrap-server",
            "kafka:9092",
            "--command-config",
            "/tmp/admin.properties",
        ]
        args = args[4:]
        if tool == "kafka-configs.sh":
            users[args[args.index("--entity-name") + 1]] = args[-1]
            continue
        assert args[:3] == ["--add", "--force", "--allow-principal"]
        who, operation = args[3], args[5]
        rest = args[6:]
        pattern = "LITERAL"
        if rest[:2] == ["--resource-pattern-type", "prefixed"]:
            pattern, rest = "PREFIXED", rest[2:]
        op = {"Read": "READ", "Write": "WRITE", "IdempotentWrite": "IDEMPOTENT_WRITE"}[operation]
        while rest:
            if rest[0] == "--cluster":
                rules.add(Acl(who, "CLUSTER", "kafka-cluster", pattern, op))
                rest = rest[1:]
            else:
                kind = {"--topic": "TOPIC", "--group": "GROUP"}[rest[0]]
                rules.add(Acl(who, kind, rest[1], pattern, op))
                rest = rest[2:]
    assert users == {s: f"SCRAM-SHA-256=[password=pw-{s}]" for s in SERVICES}
    assert rules == set(acls("p."))
