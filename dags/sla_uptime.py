"""SLA uptime: each tenant's monthly uptime from UptimeRobot against its plan, with error budgets.

Customers are promised a monthly uptime per plan: **Free 95 %, Pro 99 %, Enterprise 99.9 %** (targets in
`include/config/sla.yaml`). Every day at 00:00 UTC this job fetches every monitor's logs and maintenance
windows from UptimeRobot (50 monitors per request), maps monitors to tenants and plans (the platform
database's `tenants` table, or name patterns in `sla.yaml`) and computes, per monitor and per tenant:
uptime ratio, downtime, incidents and the longest one, the error budget allowed, used and remaining,
burn rates over 1 day, 7 days and the month, and whether the month is breached or on course to be.
UptimeRobot's own uptime figure for the same range is fetched as a cross-check; a difference beyond
the configured tolerance is noted in the report. The rules (paused time, maintenance windows, monitors
created mid-month, "no data") are in `include/reliability/sla/RULES.md`.

The run whose data interval ends on the 1st produces the **final** report of the month that just
ended; every other run a **provisional** month-to-date report. Trigger with `month` (e.g. `2026-10`) to
recompute a month (from the first month with data up to the current one), and with `tenants` (known
tenant slugs) to narrow what is reported in Slack.

**Publishes**: report rows in the results store (`reliability.sla_*`, shown on the *SLA reports* page in
this UI), gauges `sla_uptime_ratio`, `sla_target_ratio`, `sla_error_budget_remaining_ratio`, `sla_breach`
and `sla_error_budget_burn_rate` by tenant, plan and period on the Pushgateway, Slack at once on a
breach, and an `sla.report` line in `backup-monitor.log`. A breach does not fail the run; a failed fetch
does, and stores nothing (never a partial report).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from reliability.airflow.defaults import DEFAULT_ARGS, run_deadline
from reliability.sla.period import MONTH_PATTERN


@dag(
    dag_id="sla_uptime",
    description=__doc__.partition(".")[0],
    doc_md=__doc__,
    # Data intervals end at midnight, so the run ending on the 1st is the previous month's final report.
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    deadline=run_deadline(timedelta(minutes=30)),
    tags=["reliability", "sla", "uptime"],
    params={
        "month": Param(
            None,
            type=["null", "string"],
            pattern=MONTH_PATTERN,
            title="Month",
            description="Recompute this month (YYYY-MM): final if it is over, else month to date. "
            "From the first month with monitoring data up to the current month; a later month, or one "
            "before any monitor existed, fails the run and stores nothing. "
            "Empty: the month of the run's data interval.",
        ),
        "tenants": Param(
            [],
            type="array",
            items={"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"},
            maxItems=200,
            title="Tenants",
            description="Only report these tenant slugs in Slack (the stored report and the "
            "gauges always cover every tenant). Empty: all tenants.",
        ),
        "notify_success": Param(
            True,
            type="boolean",
            title="Slack success line",
            description="Also post to Slack when every tenant is within target.",
        ),
    },
)
def sla_uptime():
    @task
    def compute_sla_report(params=None, **context) -> list[dict]:
        from reliability.airflow.tasks.sla_uptime import compute_sla_report as compute

        return compute(params, context)

    @task
    def publish_results(outcomes: list[dict]) -> dict:
        from reliability.airflow.publish import publish_outcomes

        return publish_outcomes(outcomes)

    publish_results(compute_sla_report())


sla_uptime()
