"""Consumers scale with their lag (issue 21): every service that consumes events has a KEDA
ScaledObject on its own consumer group, never asking for more members than partitions."""

from pathlib import Path

import yaml

from brightline.contracts.topics import consumed_by
from brightline.platform.testing import service_names

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ROOT / "deploy" / "k8s" / "overlays" / "production"
# deployment -> consumer group (the service's name): every service the topic registry names as
# a consumer, so a service that starts consuming cannot be left out (records once was).
CONSUMERS = {s.replace("_", "-"): s for s in service_names() if consumed_by(s)}


def test_every_consumer_scales_on_its_group_lag_within_the_partition_count():
    scaled = {
        d["spec"]["scaleTargetRef"]["name"]: d
        for d in yaml.safe_load_all((PRODUCTION / "keda-lag-scaling.yaml").read_text())
        if d and d["kind"] == "ScaledObject"
    }
    [env] = yaml.safe_load_all((PRODUCTION / "kafka-env.yaml").read_text())
    partitions = int(env["data"]["KAFKA_PARTITIONS"])
    assert {"intake", "dispatch", "records", "sla-monitor"} <= set(CONSUMERS)
    assert set(scaled) == set(CONSUMERS)
    for deployment, group in CONSUMERS.items():
        spec = scaled[deployment]["spec"]
        [kafka] = [t for t in spec["triggers"] if t["type"] == "kafka"]
        assert kafka["metadata"]["consumerGroup"] == group
        assert int(kafka["metadata"]["lagThreshold"]) > 0
        assert kafka["metadata"]["allowIdleConsumers"] == "false"
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= partitions
        # The broker wants a login: KEDA reads the lag as the service's own Kafka principal.
        [auth] = [
            d
            for d in yaml.safe_load_all((PRODUCTION / "keda-lag-scaling.yaml").read_text())
            if d
            and d["kind"] == "TriggerAuthentication"
            and d["metadata"]["name"] == kafka["authenticationRef"]["name"]
        ]
        secrets = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
        assert secrets["sasl"]["key"] == "keda-sasl"
        assert secrets["password"] == {"parameter": "password", "name": "kafka-users", "key": group}
        assert auth["spec"]["env"] == [{"parameter": "username", "name": "KAFKA_SASL_USERNAME"}]
    kustomization = yaml.safe_load((PRODUCTION / "kustomization.yaml").read_text())
    assert "keda-lag-scaling.yaml" in kustomization["resources"]
    assert "KEDA" in (ROOT / "deploy" / "k8s" / "README.md").read_text()
