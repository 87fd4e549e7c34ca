"""Every DAG, run for real through Airflow (``airflow dags test`` on a migrated metadata DB) on the local
stack: real PostgreSQL and pg_dump, the S3 API, the Pushgateway, the Slack receiver, the UptimeRobot fake."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.xdist_group("airflow_e2e")


def gauge(metrics: str, name: str, **labels: str) -> float | None:
    """The value of the first series of ``name`` whose labels include ``labels``."""
    for line in metrics.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_sla_uptime_reports_breaches_to_store_gateway_and_slack(airflow_stack):
    airflow_stack.slack.clear()
    result = airflow_stack.run("sla_uptime")
    assert result.succeeded, result.output[-4000:]
    (run,) = airflow_stack.runs("sla_uptime")
    assert run["summary"]["tenants"] > 0 and run["summary"]["breaches"], run["summary"]
    breached = run["summary"]["breaches"][0]
    metrics = airflow_stack.metrics()
    assert gauge(metrics, "sla_breach", job="sla_uptime", tenant=breached) == 1
    uptime = gauge(metrics, "sla_uptime_ratio", job="sla_uptime", tenant=breached)
    target = gauge(metrics, "sla_target_ratio", job="sla_uptime", tenant=breached)
    assert uptime is not None and target is not None and uptime < target
    assert any("breached" in m["text"] for m in airflow_stack.slack.messages)
    assert any(line["action"] == "sla.report" for line in airflow_stack.log_lines())
    # The API key is a secret: not in the task output, the log file or Slack.
    assert airflow_stack.uptimerobot_api_key not in result.output
    assert airflow_stack.uptimerobot_api_key not in airflow_stack.log_path.read_text()


def test_sla_uptime_refuses_a_malformed_month_param(airflow_stack):
    result = airflow_stack.run("sla_uptime", conf={"month": "2026-13"})
    assert not result.succeeded
    assert "2026-13" in result.output and "does not match" in result.output


def test_build_size_watchdog_flags_the_bundle_over_budget(airflow_stack):
    airflow_stack.slack.clear()
    result = airflow_stack.run("build_size_watchdog", conf={"app": "web"})
    assert result.succeeded, result.output[-4000:]
    runs = airflow_stack.runs("build_size_watchdog")
    assert runs and runs[0]["status"] == "warning", runs
    metrics = airflow_stack.metrics()
    over = [line for line in metrics.splitlines()
            if line.startswith("build_size_over_budget{") and line.endswith(" 1")]
    assert over, "one demo bundle grows past its budget"
    assert airflow_stack.slack.messages, "a broken budget is posted to Slack"
