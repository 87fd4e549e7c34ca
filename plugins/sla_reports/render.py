"""The SLA page (HTML), and the CSV and JSON downloads of a period.

Every value from the store goes through :func:`html.escape` (tenant slugs, plans and notes are data,
not markup), and CSV text cells that a spreadsheet would run as a formula are quoted with a leading ``'``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, fields
from datetime import UTC, date, datetime
from html import escape
from typing import Any

from sla_reports.chart import STATUS_LABELS, Point, tenant_chart
from sla_reports.reports import PeriodView, month_days

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
        writer.writerow([*(_csv_cell(values[c]) for c in columns), tenant_status(row)])
    return out.getvalue()


def report_json(view: PeriodView) -> str:
    return json.dumps(
        {
            "period": asdict(view.current),
            "plans": [asdict(p) for p in view.plans],
            "tenants": [{**asdict(t), "status": tenant_status(t)} for t in view.tenants],
            "history": [asdict(h) for h in view.history],
        },
        default=_json_default,
        indent=1,
    )


def _columns(rows) -> list[str]:
    if not rows:
        return list(_FIRST_COLUMNS)
    names = [f.name for f in fields(rows[0])]
    return [*_FIRST_COLUMNS, *(n for n in names if n not in _FIRST_COLUMNS)]


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def _json_default(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def page(view: PeriodView, nonce: str) -> str:
    if view.current is None:
        body = (
            '<p class="empty">No SLA report is stored yet. The <code>sla_uptime</code> DAG writes one '
            "per month (month to date every day, the final report after the month ends).</p>"
        )
        return _document("SLA reports", body, nonce)
    current = view.current
    body = "".join(
        [
            _period_nav(view),
            _headline(view),
            _plan_table(view.plans),
            _tenant_table(view.tenants),
            _charts(view),
        ]
    )
    return _document(f"SLA reports {current.period}", body, nonce)


def error_page(message: str, nonce: str) -> str:
    return _document("SLA reports", f'<p class="error" role="alert">{escape(message)}</p>', nonce)


def _document(title: str, body: str, nonce: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<style nonce="{escape(nonce)}">{_CSS}</style></head>'
        f"<body><h1>SLA reports</h1>{body}</body></html>"
    )


def _period_nav(view: PeriodView) -> str:
    items = []
    for p in view.periods:
        current = ' aria-current="page"' if p.period == view.current.period else ""
        breaches = f' <span class="count breach">{p.breaches} breached</span>' if p.breaches else ""
        items.append(
            f'<li><a href="./?period={escape(p.period)}"{current}>{escape(p.period)}</a> '
            f'<span class="kind">{escape(p.kind)}</span>{breaches}</li>'
        )
    return f'<nav aria-label="Periods"><h2>Periods</h2><ul class="periods">{"".join(items)}</ul></nav>'


def _headline(view: PeriodView) -> str:
    p = view.current
    state = "final" if p.kind == "final" else f"provisional, month to date as of {_when(p.as_of)}"
    if p.breaches:
        breached = f'<strong class="breach">{p.breaches} of {p.tenants} tenants breached</strong>'
    else:
        breached = f"no breach among {p.tenants} tenants"
    period = escape(p.period)
    return (
        f'<section class="headline"><h2>{period} <span class="kind">({escape(state)})</span></h2>'
        f"<p>{breached}.</p>"
        f'<p class="downloads">Download: <a id="download-csv" href="periods/{period}.csv" '
        f'download="sla-{period}.csv">CSV</a> · <a id="download-json" href="periods/{period}.json" '
        f'download="sla-{period}.json">JSON</a></p></section>'
    )


def _plan_table(plans) -> str:
    rows = []
    for plan in plans:
        cls = ' class="breach"' if plan.breaches else ' class="at-risk"' if plan.projected_breaches else ""
        rows.append(
            f'<tr{cls} data-plan="{escape(plan.plan)}"><th scope="row">{escape(plan.plan)}</th>'
            f"<td>{_pct(plan.target)}</td><td>{plan.tenants}</td><td>{plan.tenants_with_data}</td>"
            f"<td>{plan.breaches}</td><td>{plan.projected_breaches}</td>"
            f"<td>{_pct(plan.lowest_uptime_ratio)}</td><td>{_pct(plan.mean_uptime_ratio)}</td></tr>"
        )
    return (
        '<section><h2>Per plan</h2><table id="plans"><thead><tr><th scope="col">Plan</th>'
        '<th scope="col">Target</th><th scope="col">Tenants</th><th scope="col">With data</th>'
        '<th scope="col">Breached</th><th scope="col">At risk</th><th scope="col">Lowest uptime</th>'
        f'<th scope="col">Mean uptime</th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>'
    )


def _tenant_table(tenants) -> str:
    rows = []
    for t in tenants:
        status = tenant_status(t)
        rows.append(
            f'<tr class="{status}" data-tenant="{escape(t.tenant)}" data-status="{status}">'
            f'<th scope="row">{escape(t.tenant)}</th><td>{escape(t.plan)}</td><td>{t.monitors}</td>'
            f"<td>{_pct(t.uptime_ratio)}</td><td>{_pct(t.target)}</td><td>{_duration(t.downtime_seconds)}</td>"
            f"<td>{t.incidents}</td><td>{_duration(t.longest_incident_seconds)}</td>"
            f"<td>{_pct(t.budget_remaining_ratio, 1)}</td><td>{_burn(t.burn_rate_1d)}</td>"
            f"<td>{_burn(t.burn_rate_7d)}</td><td>{_burn(t.burn_rate_period)}</td>"
            f'<td><span class="status">{STATUS_LABELS[status]}</span></td>'
            f'<td class="note">{escape(t.cross_check_note or "")}</td></tr>'
        )
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in (
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
            "Note",
        )
    )
    return (
        f'<section><h2>Per tenant</h2><table id="tenants"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        '<p class="legend">Burn: share of the error budget used in the window divided by the share of '
        "the period the window spans; above 1 the budget runs out before the period ends.</p></section>"
    )


def _charts(view: PeriodView) -> str:
    month = month_days(view.current.period)
    by_tenant: dict[str, list[Point]] = {}
    for snap in view.history:
        by_tenant.setdefault(snap.tenant, []).append(
            Point(snap.as_of_date, snap.uptime_ratio, snap.budget_remaining_ratio)
        )
    charts = [
        tenant_chart(t.tenant, t.plan, tenant_status(t), t.target, month, by_tenant.get(t.tenant, []))
        for t in view.tenants
    ]
    return (
        "<section><h2>Uptime and error budget over the month</h2>"
        '<p class="legend">One point per daily report; hover a point for its figure.</p>'
        f'<div class="charts">{"".join(charts)}</div></section>'
    )


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _pct(ratio: float | None, decimals: int = 3) -> str:
    return "–" if ratio is None else f"{ratio * 100:.{decimals}f}%"


def _burn(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.2f}×"


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "–"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


_CSS = """
:root{color-scheme:light dark;--fg:#1a202c;--muted:#5a6478;--line:#d5dae3;--bg:#fff;--breach:#fde2e1;
--breach-fg:#9b1c1c;--risk:#fff4d6;--risk-fg:#7a4b00;--up:#2b6cb0;--budget:#c05621}
@media (prefers-color-scheme:dark){:root{--fg:#e2e8f0;--muted:#a0aec0;--line:#3a4253;--bg:#1a202c;
--breach:#5c1f1f;--breach-fg:#feb2b2;--risk:#4d3a12;--risk-fg:#fbd38d;--up:#63b3ed;--budget:#f6ad55}}
body{font:14px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:16px 24px}
h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:20px 0 8px}
.kind{color:var(--muted);font-weight:normal}
ul.periods{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:6px 18px;margin:0}
a[aria-current]{font-weight:bold}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:right;white-space:nowrap}
th[scope=row],td.note,thead th:first-child{text-align:left}td.note{white-space:normal;max-width:28em}
tr.breach{background:var(--breach);color:var(--breach-fg)}tr.at-risk{background:var(--risk);color:var(--risk-fg)}
tr.breach .status,strong.breach,span.breach{font-weight:bold;color:var(--breach-fg)}
.legend,.empty{color:var(--muted)}.error{color:var(--breach-fg);font-weight:bold}
.charts{display:flex;flex-wrap:wrap;gap:12px}
svg.tenant-chart{border:1px solid var(--line);border-radius:4px;background:var(--bg)}
svg.tenant-chart.breach{border:2px solid var(--breach-fg)}
svg.tenant-chart.at-risk{border:2px solid var(--risk-fg)}
svg text{fill:var(--fg);font-size:10px}svg .chart-title{font-weight:bold;font-size:11px}
svg .chart-status{font-weight:bold}svg.breach .chart-status{fill:var(--breach-fg)}
svg.at-risk .chart-status{fill:var(--risk-fg)}svg .axis,svg .strip-name,svg .no-data{fill:var(--muted)}
svg .strip{fill:none;stroke:var(--line)}svg .tick{stroke:var(--line)}
svg line.target,svg line.zero{stroke:var(--muted);stroke-dasharray:4 3}
svg polyline.uptime{fill:none;stroke:var(--up);stroke-width:1.6}circle.uptime{fill:var(--up)}
svg polyline.budget{fill:none;stroke:var(--budget);stroke-width:1.6}circle.budget{fill:var(--budget)}
"""
