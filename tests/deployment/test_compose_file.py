"""docker-compose.yml is validated structurally (no Docker engine runs here): every service is
there, built from the project, with ports, infrastructure env, health checks, migrations first
and depends_on waiting for healthy infrastructure."""

from pathlib import Path

import yaml

from brightline.platform.settings import PersonalDataSettings
from brightline.platform.testing import settings_class

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists())
# The services whose settings hold the key of the personal data events carry sealed.
PERSONAL_DATA_ENTITLED = {
    s for s in SERVICES if issubclass(settings_class(s), PersonalDataSettings)
}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_service_and_the_infrastructure_has_a_container():
    services = compose()["services"]
    assert set(SERVICES) | {"kafka", "postgres", "migrate"} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:4.")
    assert services["postgres"]["image"].startswith("postgres:16")
    # group commit: fewer WAL flushes per ticket, each commit still flushed before its answer
    assert "commit_delay=1000" in services["postgres"]["command"]


def test_services_are_built_from_the_project_with_their_module():
    services = compose()["services"]
    dockerfile = ROOT / services["intake"]["build"]["dockerfile"]
    assert dockerfile.exists()
    assert "brightline.${SERVICE}" in dockerfile.read_text()
    for name in SERVICES:
        assert services[name]["build"]["args"]["SERVICE"] == name
        assert services[name]["build"]["context"] == "."


def test_services_publish_distinct_ports_and_get_the_infrastructure_env():
    services = compose()["services"]
    host_ports = [services[n]["ports"][0].split(":")[0] for n in SERVICES]
    assert len(set(host_ports)) == len(SERVICES)
    for name in SERVICES:
        env = services[name]["environment"]
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert (
            env["DATABASE_URL"].startswith("postgresql+asyncpg://")
            and "@postgres:5432/" in env["DATABASE_URL"]
        )
        assert "BRIGHTLINE_AUTH_SECRET" not in env  # no shared token secret any more
        assert env["BRIGHTLINE_ENV"] == "production"
        assert env["BRIGHTLINE_OIDC_ISSUER"].endswith("/realms/brightline")
        # Secrets have no default: compose refuses to start without them.
        assert "${CASEWORK_CONTACT_KEY:?" in env["CASEWORK_CONTACT_KEY"]
        # Only the services entitled to sealed personal data hold its key (docs/personal-data.md).
        if name in PERSONAL_DATA_ENTITLED:
            assert "${BRIGHTLINE_PERSONAL_DATA_KEY:?" in env["BRIGHTLINE_PERSONAL_DATA_KEY"]
        else:
            assert "BRIGHTLINE_PERSONAL_DATA_KEY" not in env
        assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]


def test_keycloak_is_the_official_image_with_the_projects_realm():
    keycloak = compose()["services"]["keycloak"]
    assert keycloak["image"] == "quay.io/keycloak/keycloak:26.5.6"
    assert "--import-realm" in keycloak["command"]
    [realm] = keycloak["volumes"]
    source = realm.split(":")[0]
    assert (ROOT / source).is_file() and realm.split(":")[1].startswith(
        "/opt/keycloak/data/import/"
    )
    assert keycloak["environment"]["KC_DB"] == "postgres"
    assert "${" in keycloak["environment"]["KC_BOOTSTRAP_ADMIN_PASSWORD"]


def test_health_checks_and_start_order():
    services = compose()["services"]
    for infra in ("kafka", "postgres"):
        assert services[infra]["healthcheck"]["test"]
    for name in SERVICES:
        depends = services[name]["depends_on"]
        # Topics and ACLs first: a service may not create topics on the authorised broker.
        assert depends["kafka-acls"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"])
    migrate = services["migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert all(f"{s}" in migrate["command"] for s in SERVICES)


def test_data_lives_in_named_volumes():
    data = compose()
    assert {"kafka-data", "pg-data"} <= set(data["volumes"])
    assert any(v.startswith("kafka-data:") for v in data["services"]["kafka"]["volumes"])
    assert any(v.startswith("pg-data:") for v in data["services"]["postgres"]["volumes"])


def test_prometheus_scrapes_every_service_and_grafana_is_provisioned():
    data = compose()
    services = data["services"]
    prometheus, grafana = services["prometheus"], services["grafana"]
    assert prometheus["image"].startswith("prom/prometheus:")
    config_mount = next(
        v for v in prometheus["volumes"] if v.endswith(":/etc/prometheus/prometheus.yml:ro")
    )
    config = yaml.safe_load((ROOT / config_mount.split(":")[0]).read_text())
    jobs = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    for name in SERVICES:
        assert jobs[name] == [f"{name}:9464"]  # the compose service and its metrics port
    assert set(SERVICES) <= set(prometheus["depends_on"])
    mounts = {
        v.split(":")[1]: ROOT / v.split(":")[0] for v in grafana["volumes"] if v.startswith("./")
    }
    assert (mounts["/etc/grafana/provisioning"] / "datasources" / "prometheus.yaml").is_file()
    dashboards = mounts["/var/lib/grafana/dashboards"]
    assert (dashboards / "brightline-hotline.json").is_file()
    provider = yaml.safe_load(
        (mounts["/etc/grafana/provisioning"] / "dashboards" / "brightline.yaml").read_text()
    )
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    datasource = yaml.safe_load(
        (mounts["/etc/grafana/provisioning"] / "datasources" / "prometheus.yaml").read_text()
    )
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    assert grafana["depends_on"]["prometheus"]["condition"] == "service_healthy"
    assert {"prometheus-data", "grafana-data"} <= set(data["volumes"])


def test_each_service_weighs_on_the_host_cpu_as_its_pod_requests_in_kubernetes():
    # One source for the weights: the manifests' CPU requests, as `make bench` and `make run`
    # weigh the services' processes (brightline.platform.local.cpu_shares).
    from brightline.platform.local.cpu_shares import pod_cpu_requests, shares

    services = compose()["services"]
    wanted = shares(pod_cpu_requests(SERVICES, ROOT))
    assert {name: services[name].get("cpu_shares") for name in SERVICES} == wanted
    assert wanted["intake"] > wanted["records"]
