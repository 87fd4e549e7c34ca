"""Alertmanager's shipped config: valid for amtool, routes by severity, secrets only in files."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.monitoring.alert_delivery import (
    ALERTMANAGER_DIR,
    CONTAINER_SECRETS_DIR,
    local_alertmanager_config,
    write_yaml,
)
from tests.monitoring.monitoring_files import alert_rules

SHIPPED = ALERTMANAGER_DIR / "alertmanager.yml"


def amtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["amtool", *map(str, args)], check=False, capture_output=True, text=True, timeout=60
    )


def shipped_config() -> dict[str, Any]:
    return yaml.safe_load(SHIPPED.read_text())


@pytest.fixture
def local_config_file(tmp_path) -> Path:
    secrets = {"slack_webhook_url": tmp_path / "slack", "smtp_password": tmp_path / "smtp"}
    for path in secrets.values():
        path.write_text("test-only")
    return write_yaml(tmp_path / "alertmanager.yml", local_alertmanager_config(secrets, "127.0.0.1:2525"))


def test_shipped_config_passes_amtool_check():
    result = amtool("check-config", SHIPPED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_local_config_derived_from_the_shipped_one_passes_amtool_check_with_its_templates(local_config_file):
    result = amtool("check-config", local_config_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " - 1 templates" in result.stdout
    assert result.stdout.count("SUCCESS") == 2, "the template file was not found or not parsed"


def test_local_config_changes_only_paths_addresses_and_timings(local_config_file):
    local = yaml.safe_load(local_config_file.read_text())
    shipped = shipped_config()
    assert (
        local["receivers"][0]["slack_configs"][0]["api_url_file"]
        != shipped["receivers"][0]["slack_configs"][0]["api_url_file"]
    )
    for config in (local, shipped):
        for receiver in config["receivers"]:
            for slack in receiver.get("slack_configs", []):
                slack.pop("api_url_file", None)  # the shipped receivers share one anchored dict
            for email in receiver.get("email_configs", []):
                email.pop("auth_password_file")
        for key in ("smtp_smarthost", "smtp_require_tls"):
            config["global"].pop(key)
        config["route"].pop("group_wait")
        config["route"].pop("group_interval")
        config.pop("templates")
    assert local == shipped


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule.name)
def test_critical_alerts_go_to_slack_and_email_and_warnings_to_slack(rule):
    expected = "slack-and-email" if rule.labels["severity"] == "critical" else "slack"
    labels = [f"{k}={v}" for k, v in {"alertname": rule.name, **rule.labels}.items()]
    result = amtool(
        "config", "routes", "test", f"--config.file={SHIPPED}", f"--verify.receivers={expected}", *labels
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_alerts_without_severity_still_reach_slack():
    result = amtool(
        "config",
        "routes",
        "test",
        f"--config.file={SHIPPED}",
        "--verify.receivers=slack",
        "alertname=Unexpected",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_receivers_read_every_secret_from_a_mounted_file():
    config = shipped_config()
    assert not {"slack_api_url", "smtp_auth_password", "smtp_auth_secret"} & set(config["global"])
    slack_configs = [s for r in config["receivers"] for s in r.get("slack_configs", [])]
    email_configs = [e for r in config["receivers"] for e in r.get("email_configs", [])]
    assert slack_configs and email_configs
    for slack in slack_configs:
        assert "api_url" not in slack
        assert slack["api_url_file"].startswith(CONTAINER_SECRETS_DIR + "/")
    for email in email_configs:
        assert "auth_password" not in email and "auth_secret" not in email
        assert email["auth_password_file"].startswith(CONTAINER_SECRETS_DIR + "/")
    assert "hooks.slack.com" not in SHIPPED.read_text()


def test_criticals_inhibit_warnings_of_the_same_job_and_subject_only():
    (rule,) = [
        r for r in shipped_config()["inhibit_rules"] if r["source_matchers"] == ['severity="critical"']
    ]
    assert rule["target_matchers"] == ['severity="warning"']
    # Without a subject label here, a breach of one tenant would silence warnings of all the others.
    assert {"job", "database", "app", "bundle", "tenant", "period"} <= set(rule["equal"])


def test_notifications_are_grouped_per_alert_and_subject():
    group_by = shipped_config()["route"]["group_by"]
    assert {"alertname", "job", "database", "app", "period"} <= set(group_by)
    assert "tenant" not in group_by, "one message per period, listing the tenants, is enough"
