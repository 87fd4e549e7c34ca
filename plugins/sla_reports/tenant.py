"""A tenant's page, its monthly statement (HTML, and PDF from the same template) and its incidents as CSV.

Everything comes from :func:`sla_reports.reports.load_tenant` (the results store); nothing here asks
UptimeRobot. The PDF is rendered by WeasyPrint with the plugin's stylesheet and no network: any URL
in the document is refused rather than fetched.
"""

from __future__ import annotations

import csv
import io

from sla_reports.bars import day_bars_chart
from sla_reports.chart import STATUS_LABELS
from sla_reports.render import csv_cell, tenant_status
from sla_reports.templating import STATIC_DIR, path_segment, pct, render, utc

_CSV_COLUMNS = (
    "period",
    "tenant",
    "monitor_id",
    "monitor",
    "start_utc",
    "end_utc",
    "duration_seconds",
    "counted",
    "rule",
    "note",
    "reason_code",
    "reason_detail",
)


def credit_text(statement) -> str:
    credit = statement.stored.credit
    if credit is None:
        return "–"
    if credit.credit_ratio <= 0:
        return "none"
    text = f"{pct(credit.credit_ratio, 0)} of the monthly fee (uptime below {pct(credit.below_ratio)})"
    return text if credit.kind == "final" else f"{text}, if the month ended now"


def _context(statement, base: str) -> dict:
    slug, period = statement.row.tenant, statement.stored.period.period
    status = tenant_status(statement.row)
    safe_name = file_safe(slug)
    return {
        "title": f"SLA {period}: {slug}",
        "s": statement,
        "base": base,
        "here": f"{base}/{period}/tenants/{path_segment(slug)}",
        "status": status,
        "status_label": STATUS_LABELS[status],
        "credit_text": credit_text(statement),
        "pdf_name": f"sla-statement-{period}-{safe_name}.pdf",
        "csv_name": f"sla-incidents-{period}-{safe_name}.csv",
    }


def tenant_page(statement, static: str, base: str) -> str:
    context = _context(statement, base)
    return render(
        "tenant.html",
        static=static,
        bars_svg=day_bars_chart(statement.row.tenant, statement.bars) if statement.bars else "",
        **context,
    )


def statement_page(statement, static: str, base: str, pdf: bool = False) -> str:
    return render("statement.html", static=static, pdf=pdf, **_context(statement, base))


def statement_pdf(statement) -> bytes:
    from weasyprint import CSS, HTML

    html = statement_page(statement, static="", base="", pdf=True)
    return HTML(string=html, url_fetcher=_no_fetch).write_pdf(
        stylesheets=[CSS(filename=str(STATIC_DIR / "sla.css"), url_fetcher=_no_fetch)]
    )


def _no_fetch(url: str, *args, **kwargs):
    raise ValueError(f"the statement PDF fetches nothing ({url})")


def file_safe(slug: str) -> str:
    """``slug`` for a download's file name (a Content-Disposition header: no quote, no path, ASCII)."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in slug)


def incidents_csv(statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_CSV_COLUMNS)
    for i in statement.incidents:
        writer.writerow(
            [
                csv_cell(v)
                for v in (
                    statement.stored.period.period,
                    statement.row.tenant,
                    i.monitor_id,
                    i.monitor_name,
                    utc(i.start),
                    utc(i.end),
                    i.duration_seconds,
                    "yes" if i.counted else "no",
                    i.rule,
                    i.note,
                    i.reason.code,
                    i.reason.detail,
                )
            ]
        )
    return out.getvalue()
