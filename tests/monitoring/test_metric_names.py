"""Every metric the rules and dashboards use is one the jobs push or the platform documents."""

from __future__ import annotations

import re

from tests.monitoring.monitoring_files import (
    README,
    alert_rules,
    base_metric_name,
    dashboard_files,
    load_dashboard,
    metric_names,
    panel_queries,
    variable_query_selectors,
)

# The metric contract of the reliability jobs (ARCHITECTURE.md, "Metrics"), and what the Pushgateway adds.
CONTRACT = {
    "reliability_job_last_success_timestamp_seconds",
    "reliability_job_last_run_timestamp_seconds",
    "reliability_job_success",
    "reliability_job_duration_seconds",
    "backup_size_bytes",
    "backup_duration_seconds",
    "backup_verified",
    "backup_suspicious",
    "backup_tables",
    "backup_rows",
    "backup_age_seconds",
    "checksum_objects",
    "checksum_verified_bytes",
    "checksum_scrub_coverage_ratio",
    "checksum_read_errors",
    "checksum_verified_ratio",
    "checksum_verified_ratio_floor",
    "restore_duration_seconds",
    "restore_backup_age_seconds",
    "restore_success",
    "restore_rows_mismatched",
    "restore_expectations_failed",
    "restore_tables",
    "restore_rows",
    "restore_rto_target_seconds",
    "restore_rpo_target_seconds",
    "sla_uptime_ratio",
    "sla_target_ratio",
    "sla_error_budget_remaining_ratio",
    "sla_breach",
    "sla_error_budget_burn_rate",
    "build_size_bytes",
    "build_size_budget_bytes",
    "build_size_over_budget",
    "build_size_warning",
    "push_time_seconds",
    "push_failure_time_seconds",
}
# The platform's monitoring document, section 3, plus node_exporter's CPU counter.
PLATFORM_DOCUMENTED = {
    "http_requests_total",
    "http_request_duration_seconds",
    "payload_db_queries_total",
    "payload_db_query_duration_seconds",
    "redis_cache_hits_total",
    "automation_runs_total",
    "assistant_calls_total",
    "export_jobs_total",
    "tenant_active_sites_total",
    "node_cpu_seconds_total",
}
# Needed by the rules and dashboards but missing from that document: monitoring/README.md asks for them.
PLATFORM_ADDED = {
    "db_connection_failures_total",
    "redis_command_duration_seconds",
    "redis_cache_misses_total",
}
PROMETHEUS_OWN = {"up", "ALERTS"}
HISTOGRAMS = {
    "http_request_duration_seconds",
    "payload_db_query_duration_seconds",
    "redis_command_duration_seconds",
}


def used_metrics() -> dict[str, set[str]]:
    """metric -> where it is used."""
    exprs = [(f"rule {r.name}", r.expr) for r in alert_rules()]
    for path in dashboard_files():
        exprs += [(f"{q.dashboard} panel {q.panel_title!r}", q.expr) for q in panel_queries(path)]
        exprs += [
            (f"{path.name} variable {name}", sel)
            for name, sel in variable_query_selectors(load_dashboard(path))
        ]
    used: dict[str, set[str]] = {}
    for where, expr in exprs:
        for name in metric_names(expr):
            used.setdefault(base_metric_name(name, HISTOGRAMS), set()).add(where)
    return used


def test_metric_names_are_read_from_selectors_only():
    expr = (
        "histogram_quantile(0.5, sum by (job, le) (rate(http_request_duration_seconds_bucket"
        '{job=~"api|web", status="500"}[5m]))) > 2 and on (job) up == 1 '
        'or absent(backup_verified{job="backup_verify"}) or time() - push_time_seconds < 26 * 3600 '
        "or count(sla_breach == 1) or vector(0)"
    )
    assert metric_names(expr) == {
        "http_request_duration_seconds_bucket",
        "up",
        "backup_verified",
        "push_time_seconds",
        "sla_breach",
    }
    assert (
        base_metric_name("http_request_duration_seconds_bucket", HISTOGRAMS)
        == "http_request_duration_seconds"
    )
    assert base_metric_name("http_requests_total", HISTOGRAMS) == "http_requests_total"


def test_rules_and_dashboards_use_only_contract_or_documented_platform_metrics():
    used = used_metrics()
    unknown = {
        name: sorted(where)
        for name, where in used.items()
        if name not in CONTRACT | PLATFORM_DOCUMENTED | PLATFORM_ADDED | PROMETHEUS_OWN
    }
    assert unknown == {}
    # Every job's verdicts are watched somewhere, so the check above looked at real queries.
    assert {
        "backup_verified",
        "checksum_objects",
        "restore_success",
        "sla_breach",
        "build_size_over_budget",
    } <= set(used)


def test_platform_metrics_missing_from_the_platform_document_are_documented_here():
    documented = set(re.findall(r"`([a-z_:]+)`", README.read_text()))
    assert PLATFORM_ADDED <= documented
    assert PLATFORM_ADDED <= set(used_metrics()), "drop a name from PLATFORM_ADDED once nothing uses it"
