"""deploy/k8s is validated structurally (no cluster here): every YAML parses, every
kustomization lists exactly the files of its folder, every service has a Deployment and a
Service that select each other on the same port, with probes, resources, a non-root security
context and a migrating initContainer; the topic Job exists and runs the topic module."""

from pathlib import Path

import pytest
import yaml

from brightline.platform.settings import PersonalDataSettings
from brightline.platform.testing import settings_class

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists())
# The services whose settings hold the key of the personal data events carry sealed.
PERSONAL_DATA_ENTITLED = {
    s for s in SERVICES if issubclass(settings_class(s), PersonalDataSettings)
}


def docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def base_objects() -> list[dict]:
    return [
        d
        for p in sorted((K8S / "base").glob("*.yaml"))
        if p.name != "kustomization.yaml"
        for d in docs(p)
    ]


def find(kind: str, name: str) -> dict:
    matches = [d for d in base_objects() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def k8s_name(service: str) -> str:
    return service.replace("_", "-")


def test_every_yaml_parses_and_every_object_has_kind_and_name():
    files = sorted(K8S.rglob("*.yaml"))
    assert len(files) > 10
    for path in files:
        for doc in docs(path):
            assert doc.get("kind"), path
            if doc["kind"] != "Kustomization":
                assert doc["apiVersion"] and doc["metadata"]["name"], path


@pytest.mark.parametrize(
    "folder", sorted(p.parent for p in K8S.rglob("kustomization.yaml")), ids=str
)
def test_a_kustomization_lists_every_file_of_its_folder(folder):
    kustomization = docs(folder / "kustomization.yaml")[0]
    listed = [r for r in kustomization.get("resources", []) if not r.startswith("..")]
    listed += [p["path"] for p in kustomization.get("patches", [])]
    present = sorted(
        p.name for p in folder.iterdir() if p.suffix == ".yaml" and p.name != "kustomization.yaml"
    )
    assert sorted(listed) == present
    for parent in (r for r in kustomization.get("resources", []) if r.startswith("..")):
        assert (folder / parent / "kustomization.yaml").is_file()


def test_namespace_shared_config_and_secret():
    assert find("Namespace", "brightline")
    assert docs(K8S / "base" / "kustomization.yaml")[0]["namespace"] == "brightline"
    config = find("ConfigMap", "brightline-env")["data"]
    assert config["MIGRATE_ON_START"] == "false"
    assert config["KAFKA_BOOTSTRAP_SERVERS"]
    assert int(config["KAFKA_PARTITIONS"]) >= 1 and int(config["KAFKA_REPLICATION_FACTOR"]) >= 1
    secret = find("Secret", "brightline-secrets")["stringData"]
    assert secret["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "BRIGHTLINE_AUTH_SECRET" not in secret  # no shared token secret any more
    for name in ("CONSOLE_OIDC_CLIENT_SECRET", "CASEWORK_CONTACT_KEY"):
        assert "CHANGE-ME" in secret[name]  # a placeholder, never a real secret
    assert config["BRIGHTLINE_ENV"] == "production"
    assert config["BRIGHTLINE_OIDC_ISSUER"].startswith("https://")


def test_keycloak_runs_the_official_image_with_the_realm():
    deployment = find("Deployment", "keycloak")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "quay.io/keycloak/keycloak:26.5.6"
    assert "--import-realm" in container["args"]
    assert find("Service", "keycloak")
    keycloak = find("Secret", "keycloak-secrets")["stringData"]
    assert "CHANGE-ME" in keycloak["KC_DB_PASSWORD"]


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_a_deployment_and_a_matching_service(service):
    name = k8s_name(service)
    deployment, svc = find("Deployment", name), find("Service", name)
    selector = deployment["spec"]["selector"]["matchLabels"]
    pod = deployment["spec"]["template"]
    assert selector.items() <= pod["metadata"]["labels"].items()
    assert svc["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    [container] = pod["spec"]["containers"]
    assert container["image"].split(":")[0] == f"brightline/{service}"
    assert "serve" in container["command"] and f"brightline.{service}" in container["command"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8000, "metrics": 9464}
    [port] = svc["spec"]["ports"]
    assert port["targetPort"] in ("http", 8000)
    refs = {next(iter(e.values()))["name"] for e in container["envFrom"]}
    # Only the services entitled to sealed personal data hold its key (docs/personal-data.md).
    personal = {"brightline-personal-data"} if service in PERSONAL_DATA_ENTITLED else set()
    assert refs == {"brightline-env", "brightline-secrets"} | personal
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    # Metrics only on the internal port, which no Service exposes; Kafka as the service itself.
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == "9464"
    env = {e["name"]: e for e in container["env"]}
    assert env["KAFKA_SASL_USERNAME"]["value"] == service
    assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "kafka-users",
        "key": service,
    }


@pytest.mark.parametrize("service", SERVICES)
def test_probes_resources_and_security(service):
    pod = find("Deployment", k8s_name(service))["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in ("http", 8000)
    for part in (container, *pod["initContainers"]):
        assert {"cpu", "memory"} <= part["resources"]["requests"].keys()
        assert {"cpu", "memory"} <= part["resources"]["limits"].keys()
        assert part["securityContext"]["runAsUser"] == 10001
        assert part["securityContext"]["runAsNonRoot"] is True
        assert part["securityContext"]["readOnlyRootFilesystem"] is True
        assert part["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsUser"] == 10001
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/tmp" in mounts  # writable scratch beside the read-only root


@pytest.mark.parametrize("service", SERVICES)
def test_an_init_container_migrates_before_the_service_starts(service):
    pod = find("Deployment", k8s_name(service))["spec"]["template"]["spec"]
    [init] = pod["initContainers"]
    assert init["command"] == ["python", "-m", f"brightline.{service}", "migrate"]
    assert init["image"] == pod["containers"][0]["image"]
    assert init["envFrom"] == pod["containers"][0]["envFrom"]


def test_the_topic_job_creates_the_topics_from_the_shared_config():
    job = find("Job", "create-topics")
    pod = job["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["command"] == ["python", "-m", "brightline.messaging.topics"]
    assert {"configMapRef": {"name": "brightline-env"}} in container["envFrom"]
    assert pod["restartPolicy"] in ("OnFailure", "Never")
    assert job["spec"]["backoffLimit"] >= 1
    import brightline.messaging.topics  # noqa: F401 - the module the Job runs exists


def test_the_dockerfile_the_images_come_from_takes_the_service_as_build_arg():
    dockerfile = (ROOT / "deploy" / "docker" / "Dockerfile").read_text()
    assert "ARG SERVICE" in dockerfile and "--uid 10001" in dockerfile


def test_overlays_scale_replicas_and_partitions():
    def overlay(name):
        folder = K8S / "overlays" / name
        return [
            d
            for p in sorted(folder.glob("*.yaml"))
            if p.name != "kustomization.yaml"
            for d in docs(p)
        ]

    production = overlay("production")
    replicas = {
        d["metadata"]["name"]: d["spec"]["replicas"]
        for d in production
        if d["kind"] == "Deployment"
    }
    [env] = [d["data"] for d in production if d["kind"] == "ConfigMap"]
    assert set(replicas) == {k8s_name(s) for s in SERVICES}
    # Replicas of a service share its consumer group: never more members than partitions.
    assert max(replicas.values()) <= int(env["KAFKA_PARTITIONS"])
    assert int(env["KAFKA_REPLICATION_FACTOR"]) == 3
    [local_env] = [d["data"] for d in overlay("local") if d["kind"] == "ConfigMap"]
    assert int(local_env["KAFKA_PARTITIONS"]) < int(env["KAFKA_PARTITIONS"])
    assert local_env["KAFKA_REPLICATION_FACTOR"] == "1"


def test_readme_explains_scaling_consumers_with_partitions():
    text = (K8S / "README.md").read_text()
    for phrase in (
        "more active members than partitions",
        "advisory lock",
        "share its consumer group",
    ):
        assert phrase in text


def test_kafka_runs_with_scram_and_the_generated_acls():
    config = find("ConfigMap", "brightline-env")["data"]
    assert config["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
    assert config["KAFKA_CREATE_TOPICS"] == "false" and config["METRICS_PORT"] == "9464"
    users = find("Secret", "kafka-users")["stringData"]
    assert set(users) == {"admin", "keda-sasl", *SERVICES}
    topics = find("Job", "create-topics")["spec"]["template"]["spec"]["containers"][0]
    assert {e["name"]: e.get("value") for e in topics["env"]}["KAFKA_SASL_USERNAME"] == "admin"
    acls = find("Job", "kafka-acls")["spec"]["template"]["spec"]
    [container] = acls["containers"]
    assert container["image"].startswith("apache/kafka:4.")
    assert container["command"] == ["sh", "/scripts/admin.sh"]
    assert {v["configMap"]["name"] for v in acls["volumes"] if "configMap" in v} == {
        "kafka-acls-scripts"
    }
    scripts = find("ConfigMap", "kafka-acls-scripts")["data"]
    assert scripts["acls.sh"] == (ROOT / "deploy" / "kafka" / "acls.sh").read_text()


def test_only_prometheus_reaches_the_metrics_port():
    policies = [o for o in base_objects() if o["kind"] == "NetworkPolicy"]
    for service in SERVICES:
        [policy] = [
            p
            for p in policies
            if p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name")
            == k8s_name(service)
        ]
        for rule in policy["spec"]["ingress"]:
            ports = {p["port"] for p in rule["ports"]}
            sources = [s.get("namespaceSelector", {}).get("matchLabels", {}) for s in rule["from"]]
            observability = {"kubernetes.io/metadata.name": "observability"}
            if 9464 in ports:
                assert ports == {9464} and sources == [observability], service
            else:
                assert observability not in sources, service
