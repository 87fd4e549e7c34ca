"""Performance watchdog: Redis latency every hour, and every day the response-time median and the AI latency SLA per provider.

The platform's monitoring document lists its performance watchdogs: "Redis latency monitor < 50ms",
"alert if response > 2s median" and "AI latency SLA per provider logged". This DAG measures all three
(targets in `include/config/performance.yaml`).

**When it runs**: every hour (data intervals `HH:00`-`HH+1:00` UTC), so the Redis figures are hourly.
The run whose interval ends at **00:00** also reports the day that just ended (response time and AI
latency), and the run ending at 00:00 on the **1st** also the AI latency SLA's **final** report of the
month that just ended. One hourly DAG rather than three keeps one place for the targets, one
Pushgateway job and one runs history; a daily section that fails does not hold back the hourly one.
From the trigger form: `sections` runs only those sections now (a daily section then reports today
so far), `day` recomputes a day, `month` the AI latency SLA of a month (final once it is over).

**Redis latency** (connection `reliability_redis`): times `commands` round trips (PING) from the worker
and takes p50/p99/max; reads Redis's own latency monitor (`LATENCY LATEST`, `LATENCY HISTOGRAM`),
turning it on (`CONFIG SET latency-monitor-threshold`) when it is off and the server allows, and
saying so when it does not. A p99 above the target (50 ms) is a breach: Slack, and the
`PerformanceRedisLatencyHigh` alert on the pushed gauge.

**Response-time median** (connection `reliability_prometheus`): from Prometheus's HTTP API, the median
of `http_request_duration_seconds` over the day at each step, the share of the day during which it was
above 2 s, the worst windows, and the median per route where the histogram has a `route` label.
The real-time `SlowMedianResponse` alert stays the pager; this is the daily record.

**AI latency SLA per provider** (connection `reliability_source_db`, the platform database): per
provider and model, from `assistant_calls` in the database itself (`percentile_cont`, no rows pulled):
calls, error rate, p50/p95/p99 and the share of successful calls within the provider's latency
target, cross-checked against Prometheus's assistant latency histogram where it has one. A provider
with no calls is "no data" (not 0 % or 100 %); a provider without a target is reported as such.

**Publishes**: rows in the results store (`reliability.performance_*`), gauges `performance_*` on the
Pushgateway (group `job=performance_watchdog` plus `section`, and `provider`/`period` for AI latency),
one `backup-monitor.log` line per section (`performance.redis_latency`, `performance.response_time`)
and per provider (`ai.latency_sla`), Slack for a breach or a provider below target. A breach does
not fail the run; a section that cannot run (Redis down, a query error) fails it, after the other
sections have reported.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from reliability.airflow.defaults import DEFAULT_ARGS, run_deadline

SECTIONS = ["redis", "response_time", "ai_latency"]


@dag(
    dag_id="performance_watchdog",
    description=__doc__.partition(".")[0],
    doc_md=__doc__,
    # Hourly data intervals: the run ending at 00:00 reports the day, the one ending on the 1st the month.
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "execution_timeout": timedelta(minutes=20)},
    deadline=run_deadline(timedelta(minutes=45)),
    tags=["reliability", "performance", "redis", "latency"],
    params={
        "sections": Param(
            [],
            type="array",
            items={"type": "string", "enum": SECTIONS},
            uniqueItems=True,
            title="Sections",
            description="Run only these sections now (a daily section then reports today so far). "
            "Empty: what the schedule says (Redis every hour, the daily sections at 00:00).",
        ),
        "day": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$",
            title="Day",
            description="Recompute the response-time and AI latency report of this day (YYYY-MM-DD).",
        ),
        "month": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
            title="Month",
            description="Recompute the AI latency SLA of this month (YYYY-MM): final if it is over, "
            "else month to date.",
        ),
        "notify_success": Param(
            False,
            type="boolean",
            title="Slack when within target",
            description="Also post to Slack when everything is within target "
            "(breaches, providers below target and failures are always posted).",
        ),
    },
)
def performance_watchdog():
    @task
    def measure_redis_latency(**context) -> list[dict]:
        from reliability.airflow.tasks.performance_watchdog import measure_redis_latency as measure

        return measure(context)

    @task
    def report_response_time(**context) -> list[dict]:
        from reliability.airflow.tasks.performance_watchdog import report_response_time as report

        return report(context)

    @task
    def report_ai_latency(**context) -> list[dict]:
        from reliability.airflow.tasks.performance_watchdog import report_ai_latency as report

        return report(context)

    @task(trigger_rule="all_done")
    def publish_results(outcomes) -> dict:
        from reliability.airflow.publish import publish_outcomes

        return publish_outcomes([o for section in outcomes if section for o in section])

    # The gate turns a published failure into a failed run: no retry (the verdict would not change).
    @task(retries=0)
    def check_outcomes(outcomes) -> str:
        from reliability.airflow.tasks import check_outcomes as check

        return check([o for section in outcomes if section for o in section])

    outcomes = [measure_redis_latency(), report_response_time(), report_ai_latency()]
    publish_results(outcomes) >> check_outcomes(outcomes)


performance_watchdog()
