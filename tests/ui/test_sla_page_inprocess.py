"""The SLA page's modules in-process: escaping, CSV safety, the chart, failure pages, a cheap import."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime

from reliability.sla.store import PeriodInfo, PlanSummary, TenantSnapshot
from stack.processes import free_port
from tests.ui.conftest import ROOT
from tests.ui.sla_seed import seed_sla_reports, tenant_row

HOSTILE = '<img src=x onerror="alert(1)">'


def _view(tenants, history=()):
    from sla_reports.reports import PeriodView

    as_of = datetime(2026, 11, 15, tzinfo=UTC)
    info = PeriodInfo("2026-11", "provisional", as_of, "k", len(tenants), sum(1 for t in tenants if t.breach))
    plans = [PlanSummary("enterprise", 0.999, len(tenants), len(tenants), 1, 0, 0.99, 0.99)]
    return PeriodView(periods=[info], current=info, plans=plans, tenants=list(tenants), history=list(history))


def _row(tenant: str, down: int | None = 3_000, note: str | None = None):
    return replace(
        tenant_row("2026-11", "provisional", "acme-corp", 14 * 86_400, 30 * 86_400, down),
        tenant=tenant,
        cross_check_note=note,
    )


def test_loading_the_plugin_imports_no_web_framework_or_database_driver():
    # Airflow loads every file of the plugins folder by path, in every process: do the same in a fresh one
    plugin = str(ROOT / "plugins" / "sla_reports" / "sla_reports_plugin.py")
    script = f"""
import importlib.machinery, importlib.util, json, sys
import airflow.plugins_manager
before = set(sys.modules)
loader = importlib.machinery.SourceFileLoader("sla_reports_plugin", {plugin!r})
module = importlib.util.module_from_spec(importlib.util.spec_from_loader("sla_reports_plugin", loader))
loader.exec_module(module)
print(json.dumps(sorted(set(sys.modules) - before)))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    added = json.loads(result.stdout.strip().splitlines()[-1])
    assert not [
        m
        for m in added
        if m.split(".")[0]
        in ("fastapi", "starlette", "psycopg", "numpy", "pandas", "sla_reports", "reliability")
    ], added
    assert "airflow.api_fastapi.core_api.security" not in added


def test_page_escapes_every_value_from_the_store():
    from sla_reports.render import page

    hostile = _row(HOSTILE, note='"><script>alert(2)</script>')
    snapshot = TenantSnapshot(
        HOSTILE, "enterprise", date(2026, 11, 3), "provisional", 0.99, 0.999, -0.5, 3.0, True
    )
    html = page(_view([hostile], [snapshot]), static="/sla/static")
    assert "<img" not in html and "<script" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html  # markupsafe writes " as &#34;
    assert "&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert '<link rel="stylesheet" href="/sla/static/sla.css">' in html


def test_csv_text_cells_cannot_run_as_spreadsheet_formulas():
    from sla_reports.render import report_csv

    rows = list(csv.DictReader(io.StringIO(report_csv(_view([_row('=HYPERLINK("http://x")', down=9_000)])))))
    assert rows[0]["tenant"] == '\'=HYPERLINK("http://x")'
    assert float(rows[0]["budget_remaining_ratio"]) < 0  # numbers keep their sign


def test_chart_breaks_the_line_where_a_day_has_no_data():
    from sla_reports.chart import Point, tenant_chart
    from sla_reports.reports import month_days

    points = [Point(date(2026, 11, d), None if d == 5 else 0.999, 0.5) for d in range(2, 9)]
    svg = tenant_chart("acme-corp", "enterprise", "ok", 0.999, month_days("2026-11"), points)
    assert svg.count('<polyline class="uptime"') == 2  # days 2-4 and 6-8
    assert svg.count('<polyline class="budget"') == 1
    assert svg.count('<circle class="uptime"') == 6


def test_chart_puts_the_final_report_at_the_end_of_the_month():
    from sla_reports.chart import WIDTH, Point, tenant_chart
    from sla_reports.reports import month_days

    svg = tenant_chart("t", "pro", "ok", 0.99, month_days("2026-11"), [Point(date(2026, 12, 1), 0.995, 0.5)])
    assert f'<circle class="uptime" cx="{WIDTH - 10:.1f}"' in svg


def test_unreachable_results_store_names_the_connection_not_the_secret(client_for):
    dsn = f"postgresql://reliability:s3cr3t-pw@127.0.0.1:{free_port()}/results"
    for path in ("/", "/periods/2026-11.csv", "/periods/2026-11.json"):
        answer = client_for(dsn).get(path)
        assert answer.status_code == 503
        assert "reliability_results_db" in answer.text
        assert "s3cr3t-pw" not in answer.text and "127.0.0.1" not in answer.text


def test_unmigrated_results_store_says_to_run_the_migrations(client_for, pg_cluster):
    dsn = pg_cluster.create_database("ui_unmigrated")
    try:
        answer = client_for(dsn).get("/")
    finally:
        pg_cluster.drop_database("ui_unmigrated")
    assert answer.status_code == 503
    assert "run the results store migrations" in answer.text


def test_empty_results_store_explains_where_reports_come_from(client_for, results_dsn):
    answer = client_for(results_dsn).get("/")
    assert answer.status_code == 200
    assert "No SLA report is stored yet" in answer.text and "sla_uptime" in answer.text


def test_page_has_a_row_per_tenant_and_per_plan(client_for, results_dsn):
    seed_sla_reports(results_dsn)
    html = client_for(results_dsn).get("/?period=2026-11").text
    assert len(re.findall(r"<tr [^>]*data-tenant=", html)) == 4
    assert len(re.findall(r"<tr [^>]*data-plan=", html)) == 3


def test_the_page_shows_the_ai_latency_sla_per_provider_of_the_month(client_for, results_dsn):
    """performance_watchdog's month rows (all models) beside the uptime SLA; a provider below its target is
    marked, names from the data stay text."""
    import psycopg

    seed_sla_reports(results_dsn)
    rows = [
        ("openai", 5000, 20, 0.8, 2.1, 4.0, 0.981, 6.0, 0.95, "ok"),
        ("<b>mistral</b>", 4000, 80, 1.9, 4.2, 5.5, 0.812, 4.0, 0.9, "below_target"),
    ]
    with psycopg.connect(results_dsn) as conn:
        for provider, calls, errors, p50, p95, p99, within, target, objective, verdict in rows:
            conn.execute(
                """INSERT INTO reliability.performance_ai_latency
                       (period_kind, period, provider, model, period_start, period_end, final, interval_key,
                        computed_at, calls, errors, p50_seconds, p95_seconds, p99_seconds, within_target,
                        within_target_ratio, target_seconds, objective_ratio, verdict)
                   VALUES ('month', '2026-11', %s, '*', '2026-11-01', '2026-12-01', true, 'k', now(),
                           %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT DO NOTHING""",
                (
                    provider,
                    calls,
                    errors,
                    p50,
                    p95,
                    p99,
                    int(within * calls),
                    within,
                    target,
                    objective,
                    verdict,
                ),
            )
    html = client_for(results_dsn).get("/?period=2026-11").text
    table = html[
        html.index('<table id="ai-latency">') : html.index("</table>", html.index('id="ai-latency"'))
    ]
    first, second = table.split("<tr")[2:4]  # below target first
    assert first.startswith(' class="breach"') and "&lt;b&gt;mistral&lt;/b&gt;" in first
    assert "<b>mistral" not in html
    assert "81.200%" in first and "1.90 s" in first and "below target" in first
    assert "openai" in second and "800 ms" in second and "98.100%" in second and "breach" not in second
