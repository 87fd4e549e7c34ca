"""The sla_uptime job end to end: the fake UptimeRobot in, the results store and one outcome out."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import psycopg

from reliability.core.outcome import Outcome
from reliability.sla.config import parse_config
from reliability.sla.outcome import JOB
from reliability.sla.run import run
from reliability.sla.store import list_periods, tenant_rows
from reliability.sla.uptimerobot_settings import UptimeRobotSettings
from tests.sla.support import API_KEY, NOW, TENANTS

CONFIG = parse_config(
    {
        "plans": {"free": 0.95, "pro": 0.99, "enterprise": 0.999},
        "mapping": {"tenants": {t["slug"]: t["plan"] for t in TENANTS}},
    }
)


def test_daily_run_stores_the_month_to_date_and_describes_the_breach(fake, results_dsn, dataset):
    (outcome,) = run(
        uptimerobot=UptimeRobotSettings(fake.url, API_KEY),
        results_dsn=results_dsn,
        interval_end=NOW,
        interval_key="2026-11-16",
        config=CONFIG,
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
    (outcome,) = run(
        uptimerobot=UptimeRobotSettings(fake.url, API_KEY),
        results_dsn=results_dsn,
        interval_end=datetime(2026, 11, 1, tzinfo=UTC),
        interval_key="2026-11-01",
        config=CONFIG,
    )
    assert outcome["subject"] == {"period": "2026-10"} and outcome["summary"]["kind"] == "final"
    assert outcome["headline"].startswith("SLA 2026-10 (final)")
