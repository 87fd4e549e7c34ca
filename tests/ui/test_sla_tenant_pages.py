"""The tenant page, the monthly statement (HTML and PDF) and the incidents CSV, in-process against a real
results store seeded as the SLA run stores it; names from the data stay text."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import quote

import pytest

from tests.ui.conftest import pdf_text
from tests.ui.sla_seed import (
    BREACHED,
    CURRENT,
    FINE,
    HOSTILE,
    HOSTILE_MONITOR,
    HOSTILE_PERIOD,
    seed_sla_reports,
)

ACME = f"/{CURRENT}/tenants/{BREACHED}"


@pytest.fixture(scope="module")
def seeded(pg_cluster):
    from reliability.core.store import migrate

    dsn = pg_cluster.create_database("ui_tenant_pages")
    migrate(dsn)
    seed_sla_reports(dsn)
    yield dsn
    pg_cluster.drop_database("ui_tenant_pages")


@pytest.fixture
def client(client_for, seeded):
    return client_for(seeded)


def test_every_tenant_row_links_to_its_page(client):
    html = client.get(f"/?period={CURRENT}").text
    links = re.findall(r'<a class="tenant-link" href="([^"]+)">', html)
    assert f"{CURRENT}/tenants/{BREACHED}" in links and len(links) == 4


def test_tenant_page_draws_a_bar_a_day_from_the_logs(client):
    answer = client.get(ACME)
    assert answer.status_code == 200
    html = answer.text
    levels = dict(re.findall(r'data-day="(\d+)" data-level="(\w+)"', html))
    assert len(levels) == 30
    assert {d for d, level in levels.items() if level == "major"} == {"3", "5", "9", "12"}
    assert levels["14"] == "up" and levels["15"] == "future" and levels["30"] == "future"
    assert "budget left" in html and '<polyline class="budget"' in html


def test_tenant_page_lists_incidents_monitors_history_and_credit(client):
    html = client.get(ACME).text
    incidents = re.findall(r'<tr class="counted" data-monitor="(\d+)"><td>([^<]+)</td>', html)
    assert incidents == [
        ("301", "2026-11-03 10:00:00"),
        ("302", "2026-11-05 10:00:00"),
        ("301", "2026-11-09 10:00:00"),
        ("302", "2026-11-12 10:00:00"),
    ]
    assert "Service Unavailable" in html
    assert html.count('<tr data-monitor="') == 2  # the monitors table
    # 7500 s down of 14 days: 99.380 %, below the enterprise tier of 99.9 %: 10 %
    assert '<dd id="uptime">99.380%</dd>' in html
    assert "10% of the monthly fee (uptime below 99.900%), if the month ended now" in html
    months = re.findall(r'<a href="/(\d{4}-\d{2})/tenants/acme-corp">', html)
    assert months == [CURRENT, "2026-10"]


def test_tenant_page_reconciles_days_with_uptimerobot(client):
    html = client.get(ACME).text
    assert "1 of 2 monitor-days differ from UptimeRobot" in html and "1 unexplained" in html
    assert re.findall(r'<tr class="breach" data-cause="unexplained"><td>([^<]+)</td>', html) == ["2026-11-07"]
    assert "+0.500 pp" in html


def test_tenant_without_stored_logs_shows_its_figures_only(client):
    html = client.get(f"/2026-10/tenants/{FINE}").text
    assert "No logs are stored for this period" in html and 'id="uptime"' in html


@pytest.mark.parametrize("path", [f"/{CURRENT}/tenants/nobody", f"/1999-01/tenants/{BREACHED}/statement.pdf"])
def test_unknown_tenant_or_period_is_not_found(client, path):
    assert client.get(path).status_code == 404


def test_statement_pdf_holds_tenant_period_uptime_and_credit(client, tmp_path):
    answer = client.get(f"{ACME}/statement.pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="sla-statement-{CURRENT}-{BREACHED}.pdf"'
    )
    text = pdf_text(answer.content, tmp_path / "statement.pdf")
    for expected in (
        BREACHED,
        CURRENT,
        "99.380%",
        "10% of the monthly fee",
        "Service Unavailable",
        "counted",
    ):
        assert expected in text, text


def test_statement_page_is_the_same_template(client):
    html = client.get(f"{ACME}/statement").text
    assert "<h1>Service level statement</h1>" in html
    assert '<dd id="uptime">99.380%</dd>' in html and 'id="incidents"' in html


def test_incidents_csv(client):
    answer = client.get(f"{ACME}/incidents.csv")
    assert (
        answer.headers["content-disposition"]
        == f'attachment; filename="sla-incidents-{CURRENT}-{BREACHED}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["monitor"], r["start_utc"], r["duration_seconds"], r["counted"]) for r in rows] == [
        ("acme-corp/shop", "2026-11-03 10:00:00", "1200", "yes"),
        ("acme-corp/api", "2026-11-05 10:00:00", "1800", "yes"),
        ("acme-corp/shop", "2026-11-09 10:00:00", "3600", "yes"),
        ("acme-corp/api", "2026-11-12 10:00:00", "900", "yes"),
    ]
    assert rows[0]["reason_detail"] == "Service Unavailable"


def test_a_tenant_named_with_markup_stays_text_everywhere(client, tmp_path):
    period_page = client.get(f"/?period={HOSTILE_PERIOD}").text
    link = f"{HOSTILE_PERIOD}/tenants/{quote(HOSTILE, safe='')}"
    assert f'href="{link}"' in period_page
    page = client.get(f"/{link}")
    assert page.status_code == 200
    for html in (period_page, page.text, client.get(f"/{link}/statement").text):
        assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;sla&#34;)&lt;/script&gt;" in page.text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;/www" in page.text
    pdf = client.get(f"/{link}/statement.pdf")
    assert pdf.headers["content-disposition"] == (
        f'attachment; filename="sla-statement-{HOSTILE_PERIOD}-_script_alert__sla____script_.pdf"'
    )
    assert HOSTILE in pdf_text(pdf.content, tmp_path / "statement.pdf")
    rows = list(csv.DictReader(io.StringIO(client.get(f"/{link}/incidents.csv").text)))
    assert rows[0]["tenant"] == HOSTILE and rows[0]["monitor"] == HOSTILE_MONITOR


def test_period_page_shows_credits_per_tenant_and_plan(client):
    html = client.get(f"/?period={CURRENT}").text
    assert f'data-tenant="{BREACHED}"' in html
    row = re.search(rf'<tr class="breach" data-tenant="{BREACHED}".*?</tr>', html).group(0)
    assert '<td class="credit">10%</td>' in row
    plan = re.search(r'<tr class="breach" data-plan="enterprise">.*?</tr>', html).group(0)
    assert plan.endswith("<td>1</td><td>0.10</td></tr>")
