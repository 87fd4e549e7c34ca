"""The ``sla_uptime`` job: the SLA report of the month a run's interval ends in, stored and described.

A daily run (interval ending Nov 16 00:00) reports November to date, provisionally; the run whose
interval ends Dec 1 00:00 (daily or monthly) reports November final. The report is fetched once, stored
in the results store, then described as one :class:`~reliability.core.outcome.Outcome` per period for
:func:`reliability.core.publish.publish_outcomes` (run record, log line, Pushgateway group
``job=sla_uptime, period=<YYYY-MM>``, Slack on breaches). A fetch that fails raises: nothing is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from reliability.core.outcome import Outcome
from reliability.sla.config import SlaConfig, load_config
from reliability.sla.credits import load_credits, owed_fact, tenant_credits
from reliability.sla.mapping import mapping_from_config, tenant_names_from_db, tenant_plans_from_db
from reliability.sla.outcome import to_outcome
from reliability.sla.period import Period
from reliability.sla.report import compute_sla_report, metrics
from reliability.sla.source import UptimeSource
from reliability.sla.uptimerobot_settings import UptimeRobotSettings

log = logging.getLogger(__name__)


def run(
    *,
    uptimerobot: UptimeRobotSettings | None,
    results_dsn: str,
    interval_end: datetime,
    interval_key: str,
    platform_dsn: str | None = None,
    config: SlaConfig | None = None,
    source: UptimeSource | None = None,
    tenants: Sequence[str] | None = None,
    ui_base_url: str | None = None,
) -> list[Outcome]:
    """Fetch, compute, store; the period's outcome (no secrets) for publishing.

    ``interval_end`` is the run's data interval end, used as "now" so a rerun reproduces the report.
    ``uptimerobot`` says which API (v2 or v3) to read with which key. ``platform_dsn`` (the platform
    database) supplies tenants and plans; without it, sla.yaml's ``mapping.tenants`` does. ``source``
    replaces UptimeRobot (tests, another provider).
    ``tenants`` narrows what the run reports and alerts on; the stored report and the pushed gauges always
    cover every tenant, so a narrowed rerun never erases the others' rows or series. A tenant that is not in
    the tenant directory fails the run before anything is fetched or stored.
    The logs, incidents, daily figures and service credits behind the SLA pages are stored with the report
    (:func:`reliability.sla.details.save_details`); ``ui_base_url`` links a final report's Slack message to
    the statements of the tenants owed a credit.
    """
    from reliability.core.store import connect
    from reliability.sla.details import SnapshotRecorder, save_details
    from reliability.sla.store import save_report, save_tenant_names

    started = datetime.now(UTC)
    config = config or load_config()
    credits = load_credits()  # a wrong credits table fails the run before anything is fetched
    mapping = mapping_from_config(config, tenant_plans_from_db(platform_dsn) if platform_dsn else None)
    if tenants:
        unknown = sorted(set(tenants) - set(mapping.tenant_plans))
        if unknown:
            directory = "the platform database's tenants" if platform_dsn else "sla.yaml's mapping.tenants"
            raise ValueError(
                f"unknown tenant(s) {', '.join(unknown)}: not in {directory}; nothing was fetched or stored"
            )
    period = Period.reported_by_run_ending(interval_end)
    if source is None and uptimerobot is None:
        raise ValueError("run needs the UptimeRobot settings or another source")
    client = source or uptimerobot.client()
    recorder = SnapshotRecorder(client)
    try:
        report = compute_sla_report(recorder, mapping, config, period.start, period.end, interval_end)
    finally:
        if source is None:
            client.close()
    with connect(results_dsn) as conn:
        saved = save_report(conn, report, interval_key)
        credit_gauges = save_details(conn, report, recorder, config, credits)
        if platform_dsn:
            save_tenant_names(conn, tenant_names_from_db(platform_dsn))
    log.info(
        "SLA %s (%s) stored: %d tenants, %d monitors, %d API requests",
        report.period,
        report.kind,
        len(report.tenants),
        len(report.monitors),
        report.requests,
    )
    view = report
    if tenants:
        view = replace(
            report,
            tenants=tuple(t for t in report.tenants if t.tenant in tenants),
            monitors=tuple(m for m in report.monitors if m.tenant in tenants),
        )
    outcome = to_outcome(view, saved, started, datetime.now(UTC))
    owed = owed_fact(tenant_credits(view.tenants, credits), ui_base_url) if ui_base_url else None
    return [
        replace(
            outcome,
            facts=(*outcome.facts, owed) if owed else outcome.facts,
            metrics=(*metrics(report), *credit_gauges),
        )
    ]


def run_end(month: str | None, interval_end: datetime, now: datetime | None = None) -> datetime:
    """The "now" of a run: its data interval end, or the end of the requested month (capped at now).

    A month after the current one is a :class:`~reliability.sla.period.MonthNotReportable` here, before
    anything is fetched; one before the first monitor existed is refused after the fetch, before storing.
    """
    if not month:
        return interval_end
    now = now or datetime.now(UTC)
    return min(Period.requested(month, now).end, now)
