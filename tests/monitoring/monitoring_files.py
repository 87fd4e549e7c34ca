"""Readers for the files under monitoring/: alert rules, promtool tests, Grafana dashboards, PromQL names."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "monitoring"
RULES_DIR = MONITORING / "prometheus" / "rules"
PROMTOOL_TESTS_DIR = MONITORING / "prometheus" / "tests"
DASHBOARDS_DIR = MONITORING / "grafana" / "dashboards"
DATASOURCES_DIR = MONITORING / "grafana" / "provisioning" / "datasources"
README = MONITORING / "README.md"


@dataclass(frozen=True)
class AlertRule:
    file: Path
    group: str
    name: str
    expr: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yml"))


def promtool_test_files() -> list[Path]:
    return sorted(PROMTOOL_TESTS_DIR.glob("*.yml"))


def alert_rules() -> list[AlertRule]:
    return [
        AlertRule(
            path,
            group["name"],
            rule["alert"],
            rule["expr"],
            rule.get("labels", {}),
            rule.get("annotations", {}),
        )
        for path in rule_files()
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def promtool_cases() -> Iterator[tuple[Path, str, dict[str, Any]]]:
    """(test file, alert name, case) for every alert_rule_test case of every promtool test file."""
    for path in promtool_test_files():
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                yield path, case["alertname"], case


# --- Grafana dashboards -------------------------------------------------------------------------

# What Grafana puts in place of its own variables; any duration will do for parsing.
GRAFANA_BUILTINS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1d"}
_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)\]\]|\$(\w+)")
_VARIABLE_QUERIES = (
    re.compile(r"\s*label_values\((.+),\s*\w+\s*\)\s*", re.DOTALL),
    re.compile(r"\s*query_result\((.+)\)\s*", re.DOTALL),
)


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel_id: int
    panel_title: str
    ref_id: str
    expr: str
    datasource_uid: str | None


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS_DIR.glob("*.json"))


def load_dashboard(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def all_panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in (collapsed) rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def panel_queries(path: Path) -> list[PanelQuery]:
    dashboard = load_dashboard(path)
    return [
        PanelQuery(
            path.name,
            panel["id"],
            panel.get("title", ""),
            target.get("refId", ""),
            target["expr"],
            (target.get("datasource") or panel.get("datasource") or {}).get("uid"),
        )
        for panel in all_panels(dashboard)
        for target in panel.get("targets", [])
        if "expr" in target
    ]


def variable_names(dashboard: Mapping[str, Any]) -> set[str]:
    return {v["name"] for v in dashboard.get("templating", {}).get("list", [])}


def variable_query_selectors(dashboard: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(variable, PromQL) for each query variable: the selector of label_values(), query_result()'s query."""
    found = []
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        for pattern in _VARIABLE_QUERIES:
            if m := pattern.fullmatch(query):
                found.append((variable["name"], m.group(1)))
    return found


def substitute_variables(expr: str, values: Mapping[str, str]) -> str:
    """``expr`` with Grafana variables replaced; a variable neither in ``values`` nor built in is an error."""

    def value(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g)
        if name in GRAFANA_BUILTINS:
            return GRAFANA_BUILTINS[name]
        if name not in values:
            raise KeyError(f"variable ${name} is not defined by the dashboard")
        return values[name]

    return _VARIABLE.sub(value, expr)


# --- PromQL -------------------------------------------------------------------------------------

_KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
}
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (label values, functions and keywords left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][\w:]*", text):
        if text[match.end() :].lstrip().startswith("(") or match.group(0).lower() in _KEYWORDS:
            continue
        names.add(match.group(0))
    return names


def base_metric_name(name: str, histograms: set[str]) -> str:
    """A histogram's series (``x_bucket``, ``x_sum``, ``x_count``) as the histogram's name ``x``."""
    for suffix in _HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in histograms:
            return name[: -len(suffix)]
    return name
