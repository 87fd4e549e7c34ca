"""The SLA report as one :class:`~reliability.core.outcome.Outcome` per period: headline, facts, metrics.

Tenant slugs come from data (the platform database or sla.yaml), so every one placed in a Slack fact is
escaped with :func:`reliability.core.slack.mrkdwn_escape`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from reliability.core.outcome import Outcome
from reliability.core.slack import mrkdwn_escape
from reliability.sla.report import SlaReport, TenantRow, metrics
from reliability.sla.store import SaveResult

JOB = "sla_uptime"
ACTION = "sla.report"
LISTED_TENANTS = 10


def to_outcome(report: SlaReport, saved: SaveResult, started: datetime, finished: datetime) -> Outcome:
    """The outcome of ``report`` (possibly narrowed to some tenants) as stored with ``saved``."""
    summary = report.summary()
    breaches = [t for t in report.tenants if t.breach]
    at_risk = [t for t in report.tenants if t.projected_breach and not t.breach]
    scope = "final" if report.kind == "final" else f"to {report.as_of:%Y-%m-%d %H:%M} UTC"
    if breaches:
        headline = f"SLA {report.period} ({scope}): {len(breaches)} of {len(report.tenants)} tenants breached"
    else:
        headline = f"SLA {report.period} ({scope}): every tenant with data within target"
    facts = [("Period", f"{report.period}, {'final' if report.kind == 'final' else 'month ' + scope}")]
    if breaches:
        facts.append(("Breached", tenant_list(breaches)))
    if at_risk:
        facts.append(("On course to miss", tenant_list(at_risk)))
    if summary["tenants_without_data"]:
        facts.append(("No data", f"{summary['tenants_without_data']} tenant(s) without monitored time"))
    if summary["unmapped_monitors"]:
        facts.append(("Unmapped monitors", f"{summary['unmapped_monitors']} (no known tenant)"))
    if summary["cross_check_differences"]:
        facts.append(
            ("Cross-check", f"{summary['cross_check_differences']} monitor(s) differ from UptimeRobot")
        )
    if not saved.replaced_current:
        facts.append(("Stored", "history only: a newer or final report of the period was kept"))
    return Outcome(
        job=JOB,
        subject={"period": report.period},
        status="warning" if breaches or at_risk else "success",
        started_at=started,
        finished_at=finished,
        headline=headline,
        summary={**summary, "replaced_current": saved.replaced_current},
        facts=tuple(facts),
        metrics=tuple(metrics(report)),
        alert=bool(breaches),
        action=ACTION,
        log_fields={
            "period": report.period,
            "kind": report.kind,
            "breaches": summary["breaches"],
            "tenants": len(report.tenants),
            "monitors": len(report.monitors),
        },
    )


def tenant_list(rows: Sequence[TenantRow], limit: int = LISTED_TENANTS) -> str:
    """Tenants with their uptime against target, for a Slack fact (mrkdwn-escaped slugs)."""
    shown = ", ".join(
        f"{mrkdwn_escape(r.tenant)} ({mrkdwn_escape(r.plan)}: {r.uptime_ratio:.3%} < {r.target:.1%})"
        if r.uptime_ratio is not None
        else mrkdwn_escape(r.tenant)
        for r in rows[:limit]
    )
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")
