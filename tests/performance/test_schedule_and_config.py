"""The hourly DAG's plan (which sections over which periods) and the configuration's validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reliability.core.config import ConfigError
from reliability.performance.config import load_config, parse_config
from reliability.performance.schedule import plan_run


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_an_ordinary_hour_measures_redis_only():
    plan = plan_run(at(2026, 12, 7, 15))
    assert plan.sections == ("redis",) and plan.day is None and plan.month is None


def test_the_midnight_run_reports_the_day_that_ended():
    plan = plan_run(at(2026, 12, 7))
    assert plan.sections == ("redis", "response_time", "ai_latency")
    assert plan.day.key == "2026-12-06" and plan.day.final and plan.month is None
    assert (plan.day.start, plan.day.end) == (at(2026, 12, 6), at(2026, 12, 7))


def test_the_run_ending_on_the_first_also_reports_the_month_final():
    plan = plan_run(at(2027, 1, 1))
    assert plan.day.key == "2026-12-31" and plan.month.key == "2026-12" and plan.month.final


def test_a_manual_section_reports_today_so_far():
    plan = plan_run(at(2026, 12, 7, 14), sections=["response_time"], now=at(2026, 12, 7, 14, 25))
    assert plan.sections == ("response_time",)
    assert plan.day.key == "2026-12-07" and plan.day.end == at(2026, 12, 7, 14, 25) and not plan.day.final


def test_a_requested_month_not_over_is_to_date():
    plan = plan_run(at(2026, 12, 7, 14), month="2026-12", now=at(2026, 12, 7, 14, 30))
    assert plan.sections == ("ai_latency",) and plan.day is None
    assert plan.month.end == at(2026, 12, 7, 14, 30) and not plan.month.final
    assert plan_run(at(2026, 12, 7, 14), month="2026-11").month.final


def test_a_requested_day_runs_the_daily_sections():
    plan = plan_run(at(2026, 12, 7, 14), day="2026-12-01")
    assert plan.sections == ("response_time", "ai_latency") and plan.day.final


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sections": ["disk"]}, "unknown section"),
        ({"day": "12/06"}, "2026-12-06"),
        ({"month": "2026-13"}, "2026-11"),
    ],
)
def test_bad_requests_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plan_run(at(2026, 12, 7, 14), **kwargs)


def test_the_shipped_config_loads():
    config = load_config()
    assert config.redis.p99_target_seconds == 0.05
    assert config.response_time.median_target_seconds == 2
    assert {"openai", "anthropic", "mistral"} <= set(config.ai_latency.providers)


@pytest.mark.parametrize(
    "text, message",
    [
        ("redis:\n  comands: 100\n", "line 2: unknown key 'comands' in redis"),
        ("redis:\n  p99_target_seconds: 0\n", "line 2: redis.p99_target_seconds must be seconds above 0"),
        ("response_time:\n  window: 5 minutes\n", "line 2: response_time.window must be a range"),
        ("response_time:\n  selector: 'job=api'\n", "response_time.selector must be PromQL label matchers"),
        (
            "ai_latency:\n  providers:\n    openai:\n      latency_target_seconds: 3\n      objective_ratio: 95\n",
            "line 5: ai_latency.providers.openai.objective_ratio must be a share above 0 and at most 1",
        ),
        (
            "ai_latency:\n  providers:\n    openai:\n      objective_ratio: 0.9\n",
            "line 3: ai_latency.providers.openai needs latency_target_seconds",
        ),
        ("ai_latency:\n  providers: {}\n", "ai_latency.providers must map each provider"),
        ("redis: [1, 2\n", "not valid YAML"),
    ],
)
def test_a_wrong_config_is_refused_naming_file_and_line(text, message):
    with pytest.raises(ConfigError, match="^perf.yaml") as err:
        parse_config(text, "perf.yaml")
    assert message in str(err.value)


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="performance config file not found"):
        load_config(tmp_path / "nope.yaml")
