"""The Prometheus rules and scrape config: promtool's checks and unit tests, and what every alert carries."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.monitoring.alert_delivery import local_prometheus_config
from tests.monitoring.monitoring_files import (
    MONITORING,
    README,
    alert_rules,
    promtool_cases,
    promtool_test_files,
    rule_files,
)


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", *map(str, args)], check=False, capture_output=True, text=True, timeout=120
    )


def test_rule_files_pass_promtool_check():
    result = promtool("check", "rules", *rule_files())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(rule_files())


def test_promtool_unit_tests_pass():
    result = promtool("test", "rules", *promtool_test_files())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(promtool_test_files())


def test_every_alert_has_a_unit_test_where_it_fires_and_one_where_it_stays_silent():
    rule_file_of = {rule.name: rule.file.resolve() for rule in alert_rules()}
    loaded = {
        path: {(path.parent / f).resolve() for f in yaml.safe_load(path.read_text())["rule_files"]}
        for path in promtool_test_files()
    }
    firing, silent = set(), set()
    for test_file, alertname, case in promtool_cases():
        # A case for an alert whose rules are not loaded would pass without testing anything.
        assert rule_file_of.get(alertname) in loaded[test_file], (
            f"{test_file.name}: {alertname} is not loaded"
        )
        (firing if case.get("exp_alerts") else silent).add(alertname)
    assert set(rule_file_of) - firing == set(), "alerts never shown firing"
    assert set(rule_file_of) - silent == set(), "alerts never shown silent"


def test_alert_names_are_unique():
    names = [rule.name for rule in alert_rules()]
    assert len(names) == len(set(names))
    assert len(names) >= 29


def test_every_alert_carries_routing_labels_and_a_runbook_entry():
    readme = README.read_text()
    for rule in alert_rules():
        assert rule.labels.get("severity") in {"critical", "warning"}, rule.name
        assert rule.labels.get("team") and rule.labels.get("service"), rule.name
        assert rule.annotations.get("summary") and rule.annotations.get("description"), rule.name
        anchor = rule.name.lower()
        assert rule.annotations.get("runbook") == f"monitoring/README.md#{anchor}", rule.name
        assert f'<a id="{anchor}"></a>`{rule.name}`' in readme, f"no runbook row for {rule.name}"


def test_runbook_lists_each_alert_with_the_severity_its_rule_has():
    rows = {
        line.split("`")[1]: line.split("|")[2].strip()
        for line in README.read_text().splitlines()
        if line.startswith("| <a id=")
    }
    assert rows == {rule.name: rule.labels["severity"] for rule in alert_rules()}


def test_shipped_prometheus_config_passes_promtool_check():
    result = promtool("check", "config", MONITORING / "prometheus" / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_config_with_repository_paths_loads_every_rule_file(tmp_path):
    # The shipped file names container paths; mapped onto the repository, promtool also checks
    # that the rule_files glob finds the rules and that they load together.
    config = local_prometheus_config("http://127.0.0.1:9091", "http://127.0.0.1:9093", "127.0.0.1:9090")
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    result = promtool("check", "config", path)
    assert result.returncode == 0, result.stdout + result.stderr
    for rules in rule_files():
        assert f"Checking {rules}" in result.stdout


def test_prometheus_scrapes_the_pushgateway_keeping_pushed_labels_and_alerts_alertmanager():
    config = yaml.safe_load((MONITORING / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["pushgateway"]["honor_labels"] is True
    assert jobs["pushgateway"]["static_configs"] == [{"targets": ["pushgateway:9091"]}]
    assert config["alerting"]["alertmanagers"][0]["static_configs"] == [{"targets": ["alertmanager:9093"]}]
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
