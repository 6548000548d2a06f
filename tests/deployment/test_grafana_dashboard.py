"""The Grafana dashboard parses, uses the provisioned Prometheus datasource, covers the hotline
KPIs and the system's health, and every metric name in its PromQL is one the code defines
(collected from the Prometheus registry after importing every service and building its app)."""

import importlib
import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

from brightline.platform.openapi_docs import service_names, settings_class

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "brightline-hotline.json"
# Series Prometheus itself makes for every scrape target, not any code of ours.
PROMETHEUS_BUILTIN = {"up"}
PROMQL_WORDS = {
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "rate",
    "irate",
    "increase",
    "delta",
    "histogram_quantile",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "offset",
    "vector",
    "scalar",
    "clamp_min",
    "clamp_max",
    "abs",
    "topk",
    "bottomk",
    "avg_over_time",
    "max_over_time",
    "min_over_time",
    "time",
    "bool",
    "label_replace",
    "absent",
    "nan",
    "inf",
}


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def queries() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


def metric_names(expr: str) -> set[str]:
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range durations
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)  # grouping labels
    return {w for w in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", expr) if w not in PROMQL_WORDS}


def defined_metric_names() -> set[str]:
    """Every series name the code can expose: import each service (its app builds the HTTP
    instrumentation; any `brightline.<service>.metrics` module registers its gauges) and read the
    default registry."""
    importlib.import_module("brightline.messaging.metrics")
    for service in service_names(ROOT):
        app = importlib.import_module(f"brightline.{service}.main").create_app(
            settings_class(service)()
        )
        app.build_middleware_stack()  # the HTTP instrumentation registers its metrics here
        try:
            importlib.import_module(f"brightline.{service}.metrics")
        except ModuleNotFoundError as missing:
            if missing.name != f"brightline.{service}.metrics":
                raise
    names = set()
    suffixes = {
        "counter": ("_total",),
        "gauge": ("",),
        "histogram": ("_bucket", "_sum", "_count"),
        "summary": ("_sum", "_count", ""),
        "info": ("_info",),
        "stateset": ("",),
        "unknown": ("",),
    }
    for family in REGISTRY.collect():
        names.update(family.name + suffix for suffix in suffixes[family.type])
    return names


def test_the_dashboard_parses_and_uses_the_provisioned_datasource():
    data = dashboard()
    assert data["uid"] == "brightline-hotline"
    panel_ids = [p["id"] for p in data["panels"]]
    assert len(panel_ids) == len(set(panel_ids))
    for panel in data["panels"]:
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "prometheus"
            assert target["expr"].count("(") == target["expr"].count(")"), target["expr"]


def test_every_metric_the_dashboard_queries_is_defined_by_the_code():
    used = set().union(*map(metric_names, queries()))
    defined = defined_metric_names() | PROMETHEUS_BUILTIN
    assert used - defined == set(), f"metrics the code does not define: {sorted(used - defined)}"


def test_the_dashboard_covers_the_hotline_kpis_and_the_system_health():
    used = set().union(*map(metric_names, queries()))
    kpis = {
        "sla_answered_within_threshold_ratio",
        "sla_average_speed_of_answer_seconds",
        "sla_abandonment_ratio",
        "sla_arrival_on_time_ratio",
        "sla_complaint_reply_on_time_ratio",
        "sla_report_reply_on_time_ratio",
        "sla_callback_rate_ratio",
    }
    health = {
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "brightline_consumer_lag",
        "brightline_outbox_backlog",
        "brightline_consumer_events_dead_lettered_total",
    }
    assert kpis | health <= used
    text = "\n".join(queries())
    assert "vector(0.9)" in text  # the 90 % callback target line
    assert 'status="5xx"' in text
    assert "brightline.sla.deadline.breached.v1" in text


def test_metric_name_extraction_ignores_functions_labels_and_durations():
    expr = 'histogram_quantile(0.95, sum by (job, le) (rate(http_request_duration_seconds_bucket{job="a"}[5m])))'
    assert metric_names(expr) == {"http_request_duration_seconds_bucket"}
    assert metric_names('sum(increase(x_total{e="a.b"}[24h])) / vector(0.9)') == {"x_total"}
