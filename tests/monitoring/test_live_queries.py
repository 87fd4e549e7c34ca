"""The shipped rules and dashboard queries run without error on a real Prometheus holding every job's metrics.

promtool only parses; errors such as many-to-many matches show up only when a query meets data of the
shape the jobs push: one group per job and subject, two SLA periods side by side.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

import pytest
import requests
from prometheus_client import CollectorRegistry, Gauge, pushadd_to_gateway

from tests.monitoring.alert_delivery import delete_pushed_group, wait_until
from tests.monitoring.monitoring_files import dashboard_files, panel_queries, substitute_variables

SAMPLE = "monitoring_sample"
SAMPLE_VARIABLES = {
    "database": SAMPLE,
    "app": SAMPLE,
    "compression": "gzip",
    "period": "2099-02",
    "plan": ".*",
    "tenant": ".*",
    "job": ".*",
}


def _push(
    url: str, job: str, grouping_key: dict[str, str], samples: list[tuple[str, dict[str, str], float]]
) -> dict[str, str]:
    registry = CollectorRegistry()
    gauges: dict[str, Gauge] = {}
    now = time.time()
    run = [
        ("reliability_job_last_success_timestamp_seconds", {}, now),
        ("reliability_job_last_run_timestamp_seconds", {}, now),
        ("reliability_job_success", {}, 1),
        ("reliability_job_duration_seconds", {}, 30),
    ]
    for name, labels, value in [*run, *samples]:
        gauge = gauges.get(name) or gauges.setdefault(
            name, Gauge(name, name, list(labels), registry=registry)
        )
        (gauge.labels(**labels) if labels else gauge).set(value)
    pushadd_to_gateway(url, job=job, registry=registry, grouping_key=grouping_key)
    return {"job": job, **grouping_key}


def push_healthy_runs(url: str) -> list[dict[str, str]]:
    """A successful run of every job, labelled so as not to touch other tests' groups."""
    groups = [
        _push(
            url,
            "backup_verify",
            {"database": SAMPLE},
            [
                ("backup_size_bytes", {}, 5e8),
                ("backup_duration_seconds", {}, 120),
                ("backup_verified", {}, 1),
                ("backup_suspicious", {}, 0),
                ("backup_tables", {}, 40),
                ("backup_rows", {}, 1e6),
                ("backup_age_seconds", {}, 300),
            ],
        ),
        _push(
            url,
            "checksum_validation",
            {"instance": SAMPLE},
            [
                *[
                    ("checksum_objects", {"result": r}, n)
                    for r, n in [
                        ("ok", 120),
                        ("mismatch", 0),
                        ("size_mismatch", 0),
                        ("missing", 0),
                        ("unverifiable", 0),
                    ]
                ],
                ("checksum_verified_bytes", {}, 6e9),
                ("checksum_scrub_coverage_ratio", {}, 0.25),
                *[("checksum_verified_ratio", {"prefix": p}, 1.0) for p in ("", "backups/", "uploads/")],
            ],
        ),
        _push(
            url,
            "restore_test",
            {"database": SAMPLE},
            [
                ("restore_duration_seconds", {}, 900),
                ("restore_backup_age_seconds", {}, 3600),
                ("restore_success", {}, 1),
                ("restore_rows_mismatched", {}, 0),
                ("restore_expectations_failed", {}, 0),
                ("restore_tables", {}, 40),
                ("restore_rows", {}, 1e6),
                ("restore_rto_target_seconds", {}, 3600),
                ("restore_rpo_target_seconds", {}, 86400),
            ],
        ),
        _push(
            url,
            "build_size_watchdog",
            {"app": SAMPLE},
            [
                *[
                    (name, {"app": SAMPLE, "bundle": bundle, "compression": c}, size)
                    for name, size in [("build_size_bytes", 2e5), ("build_size_budget_bytes", 3e5)]
                    for bundle in ("main.js", "__total__")
                    for c in ("raw", "gzip", "brotli")
                ],
                *[
                    (name, {"app": SAMPLE, "bundle": bundle}, 0)
                    for name in ("build_size_over_budget", "build_size_warning")
                    for bundle in ("main.js", "__total__")
                ],
            ],
        ),
    ]
    groups += [
        _push(
            url,
            "performance_watchdog",
            {"section": "redis", "instance": SAMPLE},
            [
                ("performance_redis_latency_seconds", {"quantile": q}, v)
                for q, v in (("0.5", 0.0004), ("0.99", 0.002), ("1", 0.004))
            ]
            + [
                ("performance_redis_latency_target_seconds", {}, 0.05),
                ("performance_redis_latency_breach", {}, 0),
            ],
        ),
        _push(
            url,
            "performance_watchdog",
            {"section": "ai_latency", "provider": SAMPLE, "period": "day"},
            [("performance_ai_within_target_ratio", {}, 0.97), ("performance_ai_objective_ratio", {}, 0.9)],
        ),
    ]
    for period in ("2099-01", "2099-02"):
        series = []
        for tenant, plan, target in [("sample-a", "pro", 0.99), ("sample-b", "enterprise", 0.999)]:
            labels = {"tenant": tenant, "plan": plan, "period": period}
            series += [
                ("sla_uptime_ratio", labels, 0.9995),
                ("sla_target_ratio", labels, target),
                ("sla_error_budget_remaining_ratio", labels, 0.5),
                ("sla_breach", labels, 0),
            ]
            series += [
                ("sla_error_budget_burn_rate", {**labels, "window": w}, 0.5) for w in ("1d", "7d", "period")
            ]
        groups.append(_push(url, "sla_uptime", {"period": period}, series))
    return groups


def query(prometheus_url: str, promql: str) -> dict:
    return requests.get(f"{prometheus_url}/api/v1/query", params={"query": promql}, timeout=10).json()


def _timestamp(rfc3339: str) -> float:
    return datetime.fromisoformat(re.sub(r"(\.\d{6})\d*", r"\1", rfc3339)).timestamp()


@pytest.fixture
def healthy_runs(pushgateway, prometheus_server):
    groups = push_healthy_runs(pushgateway.url)
    wait_until(
        lambda: query(prometheus_server.url, 'sla_uptime_ratio{period="2099-01", tenant="sample-a"}')["data"][
            "result"
        ],
        30,
        "the pushed sample to be scraped",
    )
    yield time.time()
    for group in groups:
        delete_pushed_group(pushgateway.url, group)


def test_every_rule_evaluates_without_error_on_every_jobs_metrics(prometheus_server, healthy_runs):
    def rules_evaluated_since_scrape():
        groups = requests.get(f"{prometheus_server.url}/api/v1/rules", timeout=10).json()["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        return all(_timestamp(rule["lastEvaluation"]) > healthy_runs for rule in rules) and rules

    rules = wait_until(rules_evaluated_since_scrape, 30, "every rule to be evaluated on the sample")
    assert len(rules) >= 29
    assert {r["name"]: r["lastError"] for r in rules if r["health"] != "ok"} == {}


def test_every_dashboard_query_runs_and_reliability_panels_find_the_pushed_data(
    prometheus_server, healthy_runs
):
    failed, empty = {}, []
    for path in dashboard_files():
        for q in panel_queries(path):
            answer = query(prometheus_server.url, substitute_variables(q.expr, SAMPLE_VARIABLES))
            where = f"{q.dashboard} {q.panel_title!r} {q.ref_id}"
            if answer["status"] != "success":
                failed[where] = answer.get("error")
            elif (
                q.dashboard != "system-overview.json"
                and "ALERTS" not in q.expr
                and not answer["data"]["result"]
            ):
                empty.append(where)
    assert failed == {}
    assert empty == []
