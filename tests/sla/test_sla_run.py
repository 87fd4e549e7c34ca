"""The sla_uptime job end to end: the fake UptimeRobot in, the results store and one outcome out."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import psycopg
import pytest

from reliability.core.outcome import Outcome
from reliability.sla.config import parse_config
from reliability.sla.outcome import JOB
from reliability.sla.period import MonthNotReportable
from reliability.sla.run import run, run_end
from reliability.sla.store import list_periods, tenant_rows
from reliability.sla.uptimerobot_settings import UptimeRobotSettings
from tests.sla.support import API_KEY, NOW, TENANTS, StaticSource, as_dicts

CONFIG = parse_config(
    {
        "plans": {"free": 0.95, "pro": 0.99, "enterprise": 0.999},
        "mapping": {"tenants": {t["slug"]: t["plan"] for t in TENANTS}},
    }
)


def test_daily_run_stores_the_month_to_date_and_describes_the_breach(fake, results_dsn, dataset):
    (outcome,) = as_dicts(
        run(
            uptimerobot=UptimeRobotSettings(fake.url, API_KEY),
            results_dsn=results_dsn,
            interval_end=NOW,
            interval_key="2026-11-16",
            config=CONFIG,
        )
    )
    assert API_KEY not in json.dumps(outcome)
    parsed = Outcome.from_dict(outcome)
    assert (parsed.job, parsed.subject, parsed.status, parsed.alert) == (
        JOB,
        {"period": "2026-11"},
        "warning",
        True,
    )
    assert dataset.facts["breaching_tenant"] in dict(parsed.facts)["Breached"]
    assert {m.name for m in parsed.metrics} >= {
        "sla_uptime_ratio",
        "sla_breach",
        "sla_error_budget_burn_rate",
    }
    with psycopg.connect(results_dsn) as conn:
        assert [(p.period, p.kind) for p in list_periods(conn)] == [("2026-11", "provisional")]
        assert len(tenant_rows(conn, "2026-11")) == len(TENANTS)


def test_run_ending_on_the_first_of_the_month_gives_the_final_report_of_the_month_before(fake, results_dsn):
    (outcome,) = as_dicts(
        run(
            uptimerobot=UptimeRobotSettings(fake.url, API_KEY),
            results_dsn=results_dsn,
            interval_end=datetime(2026, 11, 1, tzinfo=UTC),
            interval_key="2026-11-01",
            config=CONFIG,
            ui_base_url="https://airflow.example.com/",
        )
    )
    assert outcome["subject"] == {"period": "2026-10"} and outcome["summary"]["kind"] == "final"
    assert outcome["headline"].startswith("SLA 2026-10 (final)")
    # The SLA pages' data is stored with the report, and the tenants owed a credit are linked in Slack.
    from reliability.sla.credits import load_credits, tenant_credits

    with psycopg.connect(results_dsn) as conn:
        details = conn.execute(
            "SELECT count(*) FROM reliability.sla_report_details WHERE period = '2026-10'"
        ).fetchone()[0]
        owed = [c for c in tenant_credits(tenant_rows(conn, "2026-10"), load_credits()) if c.credit_ratio > 0]
    assert details > 0
    assert owed, "the data set has a tenant breaching its plan in October"
    facts = dict(Outcome.from_dict(outcome).facts)
    for credit in owed:
        link = f"<https://airflow.example.com/sla/2026-10/tenants/{credit.tenant}/statement|{credit.tenant}>"
        assert link in facts["Service credits owed"]
    gauges = [m for m in Outcome.from_dict(outcome).metrics if m.name == "sla_service_credit_ratio"]
    assert {m.labels["tenant"] for m in gauges if m.value > 0} == {c.tenant for c in owed}


# --- issue 15: months outside [first data, current], unknown tenants, slugs escaped in Slack -------------


def _static_source(created: datetime) -> StaticSource:
    from reliability.sla.source import Snapshot, SourceMonitor
    from reliability.sla.timeline import LogEntry

    at = int(created.timestamp())
    return StaticSource(
        Snapshot(
            "static",
            (
                SourceMonitor(
                    1, "acme/shop.example.com", "https://shop.example.com", at, 2, (LogEntry(at, 98, 1),)
                ),
            ),
        )
    )


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2099-12", "has not begun: choose a month up to 2026-11"),
        ("2026-12", "has not begun"),
        ("1970-01", "YYYY-MM"),
    ],
)
def test_a_month_after_the_current_one_is_refused_before_anything_is_fetched(month, message):
    with pytest.raises(MonthNotReportable, match=message):
        run_end(month, NOW, now=NOW)


def test_the_current_and_past_months_give_their_ends_capped_at_now():
    assert run_end("2026-11", NOW, now=NOW) == NOW
    assert run_end("2026-10", NOW, now=NOW) == datetime(2026, 11, 1, tzinfo=UTC)
    assert run_end(None, NOW, now=NOW) == NOW


def run_static(source: StaticSource, results_dsn: str, interval_end: datetime, **options) -> list[dict]:
    return as_dicts(
        run(
            uptimerobot=None,
            source=source,
            results_dsn=results_dsn,
            interval_end=interval_end,
            interval_key="manual",
            config=CONFIG,
            **options,
        )
    )


def test_a_month_before_the_first_monitor_existed_is_refused_and_nothing_is_stored(results_dsn):
    source = _static_source(datetime(2026, 10, 15, tzinfo=UTC))
    with pytest.raises(
        MonthNotReportable, match="SLA 2026-09: no monitor existed yet.*first month with data is 2026-10"
    ):
        run_static(source, results_dsn, run_end("2026-09", NOW, now=NOW))
    (outcome,) = run_static(source, results_dsn, run_end("2026-10", NOW, now=NOW))
    assert outcome["subject"] == {"period": "2026-10"}  # the month the monitor was created in is reported
    with psycopg.connect(results_dsn) as conn:
        assert [p.period for p in list_periods(conn)] == ["2026-10"]


def test_unknown_tenants_are_refused_before_the_fetch_and_nothing_is_stored(results_dsn):
    source = _static_source(datetime(2026, 10, 15, tzinfo=UTC))
    with pytest.raises(
        ValueError, match="unknown tenant\\(s\\) nobody, zed: not in sla.yaml's mapping.tenants"
    ):
        run_static(source, results_dsn, NOW, tenants=["acme", "zed", "nobody"])
    assert source.requests == []
    with psycopg.connect(results_dsn) as conn:
        assert list_periods(conn) == []


def test_tenant_slugs_are_escaped_in_slack_mrkdwn():
    from reliability.sla.mapping import mapping_from_config
    from reliability.sla.outcome import to_outcome
    from reliability.sla.period import Period
    from reliability.sla.report import compute_sla_report
    from reliability.sla.source import Snapshot, SourceMonitor
    from reliability.sla.store import SaveResult
    from reliability.sla.timeline import LogEntry

    slug = "<!channel>&co"
    config = parse_config({"plans": {"pro": 0.99}, "mapping": {"tenants": {slug: "pro"}}})
    period = Period.containing(NOW)
    start = int(period.start.timestamp())
    down = SourceMonitor(
        1,
        f"{slug}/shop",
        "https://shop",
        start - 86_400,
        9,
        (LogEntry(start - 86_400, 98, 1), LogEntry(start, 1, 2)),
    )
    report = compute_sla_report(
        StaticSource(Snapshot("static", (down,))),
        mapping_from_config(config),
        config,
        period.start,
        period.end,
        NOW,
    )
    outcome = to_outcome(report, SaveResult(True, 1), NOW, NOW)
    breached = dict(outcome.facts)["Breached"]
    assert breached.startswith("&lt;!channel&gt;&amp;co (pro:") and "<!channel>" not in breached


def test_the_trigger_form_refuses_months_outside_the_pattern_and_explains_the_range():
    from pathlib import Path

    from airflow.dag_processing.dagbag import DagBag

    dag_file = Path(__file__).resolve().parents[2] / "dags" / "sla_uptime.py"
    bag = DagBag(dag_folder=str(dag_file), safe_mode=False)
    param = bag.dags["sla_uptime"].params.get_param("month")
    for bad in ("1970-01", "2026-13", "26-01", "2026-1"):
        with pytest.raises(Exception, match="does not match"):
            param.resolve(bad)
    assert param.resolve("2026-10") == "2026-10" and param.resolve(None) is None
    assert "up to the current month" in param.description
