"""The AI latency SLA per provider on a real platform database: figures worked out by hand."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType

import pytest

from reliability.core.publish import PublishTargets, publish
from reliability.performance.config import AiLatencyConfig, PerformanceConfig, ProviderTarget
from reliability.performance.promapi import PrometheusSettings
from reliability.performance.run import report_ai_latency
from reliability.performance.schedule import plan_run
from tests.performance.support import insert_calls

MIDNIGHT = plan_run(datetime(2026, 12, 7, tzinfo=UTC))  # the day 2026-12-06
CONFIG = PerformanceConfig(
    ai_latency=AiLatencyConfig(
        providers=MappingProxyType(
            {
                "openai": ProviderTarget(6.0, 0.9),
                "mistral": ProviderTarget(4.0, 0.9),
                "anthropic": ProviderTarget(6.0, 0.9),
            }
        ),
        prometheus_histogram="",
    )
)
DAY = "2026-12-06T{}+00:00"


def known_day() -> list[tuple]:
    # openai: 90 ok at 1 s and 5 ok at 8 s (gpt-a), 5 errors (gpt-b): 90 of 100 within 6 s, exactly the 90 % objective.
    calls = [("openai", "gpt-a", 1000, "ok", DAY.format("10:00"))] * 90
    calls += [("openai", "gpt-a", 8000, "ok", DAY.format("11:00"))] * 5
    calls += [("openai", "gpt-b", 30000, "error", DAY.format("12:00"))] * 5
    # mistral: 7 at 1 s, 3 at 5 s: 70 % within 4 s, below the objective.
    calls += [("mistral", "small", 1000, "ok", DAY.format("13:00"))] * 7
    calls += [("mistral", "small", 5000, "ok", DAY.format("14:00"))] * 3
    # cohere has no target; anthropic (configured) has no call in the day, only just outside it.
    calls += [("cohere", "command", 300, "ok", DAY.format("15:00"))] * 4
    calls += [("anthropic", "haiku", 100, "ok", "2026-12-05T23:59:59+00:00")]
    calls += [("anthropic", "haiku", 100, "ok", "2026-12-07T00:00:00+00:00")]
    return calls


def by_provider(outcomes) -> dict:
    return {o.subject["provider"]: o for o in outcomes}


def test_each_provider_is_judged_against_its_own_target(platform_dsn, results_dsn):
    insert_calls(platform_dsn, known_day())
    outcomes = by_provider(
        report_ai_latency(
            MIDNIGHT, platform_dsn, None, results_dsn=results_dsn, interval_key="d", config=CONFIG
        )
    )
    assert set(outcomes) == {"openai", "mistral", "anthropic", "cohere"}
    openai = outcomes["openai"].summary
    assert (openai["verdict"], openai["calls"], openai["errors"]) == ("ok", 100, 5)
    assert openai["within_target_ratio"] == pytest.approx(0.9) and openai["error_ratio"] == pytest.approx(
        0.05
    )
    # percentile_cont over the 95 successful calls: p95 lies 0.3 of the way from 1 s to 8 s.
    assert (openai["p50_seconds"], openai["p95_seconds"], openai["p99_seconds"]) == pytest.approx(
        (1.0, 3.1, 8.0)
    )
    assert outcomes["openai"].status == "success" and not outcomes["openai"].alert

    mistral = outcomes["mistral"]
    assert mistral.summary["verdict"] == "below_target" and mistral.alert and mistral.status == "warning"
    assert mistral.summary["within_target_ratio"] == pytest.approx(0.7)
    assert "70.0% of 10 calls within 4.00 s, below the 90% objective" in mistral.headline

    anthropic = outcomes["anthropic"]
    assert anthropic.summary["verdict"] == "no_data" and anthropic.summary["within_target_ratio"] is None
    assert "no data" in anthropic.headline and "%" not in anthropic.headline
    gauges = {m.name: m.value for m in anthropic.metrics if not m.labels}
    assert gauges["performance_ai_calls"] == 0
    ratio = float(gauges["performance_ai_within_target_ratio"])
    assert ratio != ratio, "no data is NaN, never 0 or 1"

    cohere = outcomes["cohere"]
    assert cohere.summary["verdict"] == "no_target" and cohere.status == "warning"
    assert "no latency target configured" in cohere.headline and cohere.summary["calls"] == 4

    from psycopg.rows import dict_row

    from reliability.core.store import connect

    with connect(results_dsn, row_factory=dict_row) as conn:
        rows = conn.execute(
            "SELECT provider, model, calls, verdict FROM reliability.performance_ai_latency ORDER BY 1, 2"
        ).fetchall()
    assert [(r["provider"], r["model"], r["calls"], r["verdict"]) for r in rows] == [
        ("anthropic", "*", 0, "no_data"),
        ("cohere", "*", 4, "no_target"),
        ("cohere", "command", 4, "no_target"),
        ("mistral", "*", 10, "below_target"),
        ("mistral", "small", 10, "below_target"),
        ("openai", "*", 100, "ok"),
        ("openai", "gpt-a", 95, "ok"),
        ("openai", "gpt-b", 5, "below_target"),
    ]
    # A rerun of the period replaces its rows.
    report_ai_latency(MIDNIGHT, platform_dsn, None, results_dsn=results_dsn, interval_key="d", config=CONFIG)
    with connect(results_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM reliability.performance_ai_latency").fetchone()[0] == 8


def test_one_json_line_per_provider_and_slack_for_the_provider_below_target(
    platform_dsn, results_dsn, tmp_path
):
    insert_calls(platform_dsn, known_day())
    outcomes = report_ai_latency(
        MIDNIGHT, platform_dsn, None, results_dsn=results_dsn, interval_key="d", config=CONFIG
    )
    sent = []

    class Slack:
        def send(self, text, blocks=None):
            sent.append((text, blocks))

    log_path = tmp_path / "backup-monitor.log"
    publish(outcomes, PublishTargets(results_dsn, None, Slack(), log_path, "d", notify_success=False))
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert sorted(line["provider"] for line in lines if line["action"] == "ai.latency_sla") == [
        "anthropic",
        "cohere",
        "mistral",
        "openai",
    ]
    mistral = next(line for line in lines if line["provider"] == "mistral")
    assert mistral["verdict"] == "below_target" and mistral["withinTargetRatio"] == pytest.approx(0.7)
    assert mistral["level"] == "warn" and mistral["p99Ms"] == 5000
    ((text, _blocks),) = sent
    assert "mistral" in text and "below the 90% objective" in text


def test_the_first_of_the_month_also_reports_the_month_final(platform_dsn, results_dsn):
    insert_calls(
        platform_dsn,
        [
            ("openai", "gpt-a", 500, "ok", "2026-11-03T10:00:00+00:00"),
            ("openai", "gpt-a", 700, "ok", "2026-11-30T23:00:00+00:00"),
        ],
    )
    plan = plan_run(datetime(2026, 12, 1, tzinfo=UTC))
    outcomes = report_ai_latency(
        plan, platform_dsn, None, results_dsn=results_dsn, interval_key="m", config=CONFIG
    )
    month = [o for o in outcomes if o.subject["period"] == "month" and o.subject["provider"] == "openai"]
    (openai,) = month
    assert openai.summary["calls"] == 2 and openai.summary["period"]["final"] is True
    assert openai.summary["p50_seconds"] == pytest.approx(0.6)
    day = [o for o in outcomes if o.subject["period"] == "day" and o.subject["provider"] == "openai"]
    assert day[0].summary["calls"] == 1


def test_an_unreachable_prometheus_skips_the_cross_check_not_the_report(platform_dsn, results_dsn):
    from stack.processes import free_port

    insert_calls(platform_dsn, known_day())
    config = PerformanceConfig(ai_latency=AiLatencyConfig(providers=CONFIG.ai_latency.providers))
    prometheus = PrometheusSettings("reliability_prometheus", f"http://127.0.0.1:{free_port()}")
    outcomes = by_provider(
        report_ai_latency(
            MIDNIGHT, platform_dsn, prometheus, results_dsn=results_dsn, interval_key="d", config=config
        )
    )
    openai = outcomes["openai"]
    assert openai.summary["verdict"] == "ok"
    error = openai.summary["cross_check"]["error"]
    assert (
        "connection reliability_prometheus" in error
        and "assistant_call_duration_seconds_bucket[86400s]" in error
    )


def test_a_platform_database_that_fails_the_query_fails_the_section(results_dsn, pg_cluster):
    dsn = pg_cluster.dsn("postgres")  # no assistant_calls table here
    (outcome,) = report_ai_latency(
        MIDNIGHT, dsn, None, results_dsn=results_dsn, interval_key="x", config=CONFIG
    )
    assert outcome.status == "failed" and outcome.subject == {"section": "ai_latency", "period": "day"}
    assert "assistant_calls" in outcome.headline and pg_cluster.password not in outcome.headline


def test_the_database_figures_are_cross_checked_against_prometheus(
    platform_dsn, results_dsn, platform_prometheus, platform_metrics
):
    from tests.performance.support import wait_for_history

    wait_for_history(platform_metrics, 15)
    now = datetime.now(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0).isoformat()
    insert_calls(
        platform_dsn,
        [("openai", "gpt-a", 1000, "ok", today)] * 10 + [("anthropic", "h", 750, "ok", today)] * 10,
    )
    config = PerformanceConfig(
        ai_latency=replace(CONFIG.ai_latency, prometheus_histogram="assistant_call_duration_seconds")
    )
    plan = plan_run(now, sections=["ai_latency"])
    outcomes = by_provider(
        report_ai_latency(
            plan, platform_dsn, platform_prometheus, results_dsn=results_dsn, interval_key="c", config=config
        )
    )
    # The stand-in serves openai at 1.5 s and anthropic at 0.8 s (0.75 s interpolated in the 0.5-1 s bucket).
    openai = outcomes["openai"].summary["cross_check"]
    assert openai["prometheus_p50_seconds"] == pytest.approx(1.5) and openai["differs"] is True
    assert openai["difference_ratio"] == pytest.approx(0.5)
    assert any(name == "Cross-check" for name, _ in outcomes["openai"].facts)
    anthropic = outcomes["anthropic"].summary["cross_check"]
    assert anthropic["prometheus_p50_seconds"] == pytest.approx(0.75) and anthropic["differs"] is False


def test_the_counting_query_gives_exactly_what_percentile_cont_gives(platform_dsn):
    import random

    import psycopg

    from reliability.performance.ai_latency import compute

    rng = random.Random(5)
    calls = [
        (
            p,
            m,
            rng.choice([rng.randint(100, 400), rng.randint(100, 30000)]),
            rng.choice(["ok"] * 9 + ["error"]),
            DAY.format("08:00"),
        )
        for p, m in (("openai", "a"), ("openai", "b"), ("mistral", "s"))
        for _ in range(rng.randint(1, 700))
    ]
    insert_calls(platform_dsn, calls)
    with psycopg.connect(platform_dsn) as conn:
        slas = compute(conn, CONFIG.ai_latency, MIDNIGHT.day)
        reference = {
            (p, m): q
            for p, m, q in conn.execute(
                """SELECT provider, coalesce(model, '*'),
                          percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY latency_ms)
                              FILTER (WHERE status = 'ok')
                   FROM assistant_calls GROUP BY GROUPING SETS ((provider, model), (provider))"""
            )
        }
    found = {}
    for sla in slas:
        for f in ((sla.total,) if sla.total else ()) + sla.models:
            found[(f.provider, f.model)] = [f.p50_seconds, f.p95_seconds, f.p99_seconds]
    assert found.keys() == reference.keys()  # anthropic, without calls, has no figures
    for key, quantiles in reference.items():
        assert found[key] == pytest.approx([q / 1000 for q in quantiles], abs=1e-9), key
