"""Grafana dashboards and provisioning: valid JSON, one data source, queries that parse as PromQL."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.monitoring.monitoring_files import (
    DATASOURCES_DIR,
    MONITORING,
    all_panels,
    dashboard_files,
    load_dashboard,
    panel_queries,
    substitute_variables,
    variable_names,
    variable_query_selectors,
)

DASHBOARDS = dashboard_files()


def provisioned_datasource() -> dict:
    (datasource,) = yaml.safe_load((DATASOURCES_DIR / "prometheus.yml").read_text())["datasources"]
    return datasource


def test_the_three_dashboards_exist_with_distinct_uids():
    titles = {load_dashboard(path)["title"] for path in DASHBOARDS}
    assert titles == {"Reliability jobs", "SLA uptime", "System Overview"}
    uids = [load_dashboard(path)["uid"] for path in DASHBOARDS]
    assert len(uids) == len(set(uids))


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_panel_ids_are_unique(path):
    ids = [panel["id"] for panel in all_panels(load_dashboard(path))]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_panels_fit_the_24_column_grid_without_overlapping(path):
    boxes = [(p["title"], p["gridPos"]) for p in all_panels(load_dashboard(path))]
    for i, (title, a) in enumerate(boxes):
        assert a["x"] + a["w"] <= 24, title
        for other, b in boxes[i + 1 :]:
            overlap = (
                a["x"] < b["x"] + b["w"]
                and b["x"] < a["x"] + a["w"]
                and a["y"] < b["y"] + b["h"]
                and b["y"] < a["y"] + a["h"]
            )
            assert not overlap, (title, other)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_query_and_variable_uses_the_provisioned_datasource(path):
    uid = provisioned_datasource()["uid"]
    dashboard = load_dashboard(path)
    queries = panel_queries(path)
    assert queries
    assert {q.datasource_uid for q in queries} == {uid}
    for panel in all_panels(dashboard):
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": uid}, panel["title"]
    for variable in dashboard["templating"]["list"]:
        assert variable["datasource"]["uid"] == uid, variable["name"]


def test_every_panel_and_variable_query_parses_as_promql(tmp_path):
    # promtool has no "parse this expression" command, but it parses every recording rule's expr.
    rules = []
    for path in DASHBOARDS:
        dashboard = load_dashboard(path)
        values = {name: "x" for name in variable_names(dashboard)}
        for q in panel_queries(path):
            rules.append(
                {
                    "record": f"dashboard:{path.stem.replace('-', '_')}:panel_{q.panel_id}_{q.ref_id}",
                    "expr": substitute_variables(q.expr, values),
                }
            )
        for name, selector in variable_query_selectors(dashboard):
            rules.append(
                {
                    "record": f"dashboard:{path.stem.replace('-', '_')}:variable_{name}",
                    "expr": substitute_variables(selector, values),
                }
            )
    rules_file = tmp_path / "dashboard-queries.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        ["promtool", "check", "rules", str(rules_file)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_undefined_dashboard_variables_are_reported():
    with pytest.raises(KeyError, match=r"\$tenant"):
        substitute_variables('sla_uptime_ratio{tenant=~"$tenant"}', {"plan": "x"})
    assert (
        substitute_variables('rate(x{a="${plan:regex}", b="[[plan]]"}[$__rate_interval])', {"plan": "p"})
        == 'rate(x{a="p", b="p"}[5m])'
    )


def test_sla_dashboard_filters_by_period_plan_and_tenant():
    dashboard = load_dashboard(MONITORING / "grafana" / "dashboards" / "sla-uptime.json")
    assert variable_names(dashboard) == {"period", "plan", "tenant"}
    for q in panel_queries(MONITORING / "grafana" / "dashboards" / "sla-uptime.json"):
        assert re.search(r'period="\$period", plan=~"\$plan", tenant=~"\$tenant"', q.expr), q.panel_title


def test_provisioning_points_grafana_at_prometheus_and_the_dashboards_folder():
    datasource = provisioned_datasource()
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    assert datasource["isDefault"] is True
    (provider,) = yaml.safe_load(
        (MONITORING / "grafana" / "provisioning" / "dashboards" / "reliability.yml").read_text()
    )["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/etc/grafana/dashboards"
