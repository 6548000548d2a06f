"""The alerting rules (deploy/prometheus/alerts.yml): PromQL that parses, over metrics and labels
the services really export, each rule saying how urgent it is and what to do, loaded by the
Prometheus that docker-compose runs."""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY

from brightline.platform.testing import service_names

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES: list[dict[str, Any]] = [
    rule
    for group in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    for rule in group["rules"]
]
# Labels Prometheus puts on every series it scrapes, and a histogram's bucket bound.
TARGET_LABELS = {"job", "instance"}
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


@cache
def exported() -> dict[str, set[str]]:
    """Every series name the services' processes serve, with its labels: each service's app
    module registers its metrics in the default registry when imported."""
    for service in service_names():
        importlib.import_module(f"brightline.{service}.main")
    names: dict[str, set[str]] = {"up": set()}  # Prometheus's own, per target
    # prometheus_client lists no collectors and no label names of a metric without children
    # publicly: its private attributes are read here, in a test only.
    for collector in list(REGISTRY._collector_to_names):
        labels = set(getattr(collector, "_labelnames", ()))
        for family in collector.collect():
            for suffix in SUFFIXES.get(family.type, ("",)):
                extra = {"le"} if suffix == "_bucket" else set()
                names[family.name + suffix] = labels | extra
    return names


def selectors(expr: promql_parser.Expr) -> tuple[list[promql_parser.VectorSelector], list[str]]:
    """The series an expression reads, and the labels its aggregations keep."""
    found: list[promql_parser.VectorSelector] = []
    kept: list[str] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)
        if isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            kept.extend(node.modifier.labels)

    promql_parser.walk(expr, visit)
    return found, kept


@pytest.mark.parametrize("rule", RULES, ids=[r["alert"] for r in RULES])
def test_a_rule_reads_series_and_labels_the_services_export(rule):
    read, kept = selectors(promql_parser.parse(rule["expr"]))
    assert read, "a rule reads at least one series"
    metrics = exported()
    for selector in read:
        assert selector.name in metrics, f"{selector.name} is served by no service"
        labels = metrics[selector.name] | TARGET_LABELS
        for matcher in selector.matchers.matchers:
            assert matcher.name in labels, f"{selector.name} has no label {matcher.name}"
    allowed = set().union(*(metrics[s.name] for s in read)) | TARGET_LABELS
    assert set(kept) <= allowed, f"kept labels {set(kept) - allowed} are on none of its series"


@pytest.mark.parametrize("rule", RULES, ids=[r["alert"] for r in RULES])
def test_a_rule_says_how_urgent_it_is_and_what_to_do(rule):
    assert rule["labels"]["severity"] in {"page", "ticket"}
    assert rule["annotations"]["summary"].strip()
    assert len(rule["annotations"]["description"].split()) >= 15, "say what to check or do"
    if "for" in rule:
        assert promql_parser.parse_duration(rule["for"]).total_seconds() > 0


def test_alert_names_are_unique_and_both_severities_are_used():
    names = [r["alert"] for r in RULES]
    assert len(names) == len(set(names))
    assert {r["labels"]["severity"] for r in RULES} == {"page", "ticket"}


def test_prometheus_loads_the_rules_next_to_its_config():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert "alerts.yml" in config["rule_files"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["prometheus"]["volumes"]
    assert "./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in volumes
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in volumes
