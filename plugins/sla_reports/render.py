"""The SLA page (HTML), and the CSV and JSON downloads of a period.

The HTML comes from the Jinja2 templates in ``templates/`` with autoescape on (tenant slugs, plans and
notes are data, not markup), and CSV text cells that a spreadsheet would run as a formula are quoted with a leading ``'``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from typing import Any

from reliability.sla.credits import plan_credits
from sla_reports.chart import STATUS_LABELS, Point, tenant_chart
from sla_reports.reports import PeriodView, month_days
from sla_reports.templating import render, when

_FIRST_COLUMNS = ("period", "kind", "tenant", "plan", "monitors")
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def tenant_status(row) -> str:
    if row.breach:
        return "breach"
    if row.projected_breach:
        return "at-risk"
    if row.uptime_ratio is None:
        return "no-data"
    return "ok"


def report_csv(view: PeriodView) -> str:
    """One line per tenant of the period, every stored figure, in base units (ratios, seconds)."""
    out = io.StringIO()
    writer = csv.writer(out)
    columns = _columns(view.tenants)
    writer.writerow([*columns, "status"])
    for row in view.tenants:
        values = asdict(row)
        writer.writerow([*(csv_cell(values[c]) for c in columns), tenant_status(row)])
    return out.getvalue()


def report_json(view: PeriodView) -> str:
    return json.dumps(
        {
            "period": asdict(view.current),
            "plans": [asdict(p) for p in view.plans],
            "tenants": [{**asdict(t), "status": tenant_status(t)} for t in view.tenants],
            "history": [asdict(h) for h in view.history],
            "credits": [asdict(c) for c in view.credits],
        },
        default=_json_default,
        indent=1,
    )


def _columns(rows) -> list[str]:
    if not rows:
        return list(_FIRST_COLUMNS)
    names = [f.name for f in fields(rows[0])]
    return [*_FIRST_COLUMNS, *(n for n in names if n not in _FIRST_COLUMNS)]


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def _json_default(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def page(view: PeriodView, static: str) -> str:
    """The period page; ``static`` is the URL of the plugin's static folder (the stylesheet)."""
    if view.current is None:
        return render("period.html", title="SLA reports", static=static, current=None)
    current = view.current
    month = month_days(current.period)
    by_tenant: dict[str, list[Point]] = {}
    for snap in view.history:
        by_tenant.setdefault(snap.tenant, []).append(
            Point(snap.as_of_date, snap.uptime_ratio, snap.budget_remaining_ratio)
        )
    credit_of = {c.tenant: c for c in view.credits}
    rows = [_TenantLine(t, tenant_status(t), credit_of.get(t.tenant)) for t in view.tenants]
    owed = {p.plan: p for p in plan_credits(view.credits)}
    state = "final" if current.kind == "final" else f"provisional, month to date as of {when(current.as_of)}"
    return render(
        "period.html",
        title=f"SLA reports {current.period}",
        static=static,
        current=current,
        state=state,
        periods=view.periods,
        plans=[(plan, owed.get(plan.plan)) for plan in view.plans],
        tenants=rows,
        tenant_columns=_TENANT_COLUMNS,
        ai_latency=view.ai_latency,
        charts=[
            tenant_chart(
                r.row.tenant, r.row.plan, r.status, r.row.target, month, by_tenant.get(r.row.tenant, [])
            )
            for r in rows
        ],
    )


def error_page(message: str, static: str) -> str:
    return render("error.html", title="SLA reports", static=static, message=message)


@dataclass(frozen=True)
class _TenantLine:
    row: Any  # TenantRow
    status: str
    credit: Any  # TenantCredit, None when the report has none stored

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


_TENANT_COLUMNS = (
    "Tenant",
    "Plan",
    "Monitors",
    "Uptime",
    "Target",
    "Downtime",
    "Incidents",
    "Longest incident",
    "Budget left",
    "Burn 1d",
    "Burn 7d",
    "Burn period",
    "Status",
    "Credit",
    "Note",
)
