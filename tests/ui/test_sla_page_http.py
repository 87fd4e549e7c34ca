"""The SLA reports plugin as served by a real Airflow api-server: authentication, content, headers."""

from __future__ import annotations

import csv
import io

import pytest

from tests.ui.sla_seed import AT_RISK, BREACHED, CURRENT, FINE, NO_DATA, PREVIOUS, SAVED_DAYS

PLUGIN_ROUTES = [
    "/sla/",
    f"/sla/?period={CURRENT}",
    f"/sla/periods/{CURRENT}.csv",
    f"/sla/periods/{CURRENT}.json",
    "/sla/?period=1999-01",
    "/sla/periods/not-a-period.csv",
    "/sla/static/sla.css",
    f"/sla/{CURRENT}/tenants/{BREACHED}",
    f"/sla/{CURRENT}/tenants/{BREACHED}/statement",
    f"/sla/{CURRENT}/tenants/{BREACHED}/statement.pdf",
    f"/sla/{CURRENT}/tenants/{BREACHED}/incidents.csv",
]


@pytest.mark.parametrize("path", PLUGIN_ROUTES)
def test_plugin_routes_refuse_requests_without_login(airflow_api, path):
    answer = airflow_api.get(path)
    assert answer.status_code == 401
    assert BREACHED not in answer.text


@pytest.mark.parametrize("path", PLUGIN_ROUTES)
def test_plugin_routes_refuse_a_forged_token(airflow_api, path):
    forged = "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhZG1pbiIsInJvbGUiOiJBRE1JTiJ9.c2lnbmF0dXJl"
    by_header = airflow_api.get(path, token=forged)
    by_cookie = airflow_api.get(path, cookies={"_token": forged})
    assert (by_header.status_code, by_cookie.status_code) == (403, 403)
    assert BREACHED not in by_header.text + by_cookie.text


@pytest.mark.parametrize("path", ["/sla/docs", "/sla/redoc", "/sla/openapi.json"])
def test_plugin_serves_no_docs_or_schema(airflow_api, api_token, path):
    assert airflow_api.get(path, token=api_token).status_code == 404


def test_page_answers_html_that_only_airflow_may_frame(airflow_api, api_token):
    answer = airflow_api.get("/sla/", token=api_token)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    csp = [part.strip() for part in answer.headers["content-security-policy"].split(";")]
    assert "frame-ancestors 'self'" in csp
    assert "default-src 'none'" in csp  # and so no script runs on the page
    assert answer.headers["x-frame-options"] == "SAMEORIGIN"
    assert answer.headers["cache-control"] == "no-store"


def test_stylesheet_is_served_to_logged_in_users(airflow_api, api_token):
    answer = airflow_api.get("/sla/static/sla.css", cookies={"_token": api_token})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/css")
    assert "--breach:#fde2e1" in answer.text
    page = airflow_api.get("/sla/", token=api_token)
    assert '<link rel="stylesheet" href="/sla/static/sla.css">' in page.text
    assert "style-src 'self'" in page.headers["content-security-policy"]


def test_tenant_page_is_served_under_the_mount_with_absolute_links(airflow_api, api_token):
    answer = airflow_api.get(f"/sla/{CURRENT}/tenants/{BREACHED}", token=api_token)
    assert answer.status_code == 200
    assert "frame-ancestors 'self'" in answer.headers["content-security-policy"]
    assert f'href="/sla/{CURRENT}/tenants/{BREACHED}/statement.pdf"' in answer.text
    assert '<link rel="stylesheet" href="/sla/static/sla.css">' in answer.text
    pdf = airflow_api.get(f"/sla/{CURRENT}/tenants/{BREACHED}/statement.pdf", token=api_token)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_page_with_the_ui_cookie_shows_the_newest_period(airflow_api, api_token):
    answer = airflow_api.get("/sla/", cookies={"_token": api_token})
    assert answer.status_code == 200
    assert f"<h2>{CURRENT} " in answer.text
    assert f'href="./?period={PREVIOUS}"' in answer.text  # the older period is listed


def test_page_highlights_the_breached_tenant_and_the_one_at_risk(airflow_api, api_token):
    html = airflow_api.get(f"/sla/?period={CURRENT}", token=api_token).text
    assert f'<tr class="breach" data-tenant="{BREACHED}" data-status="breach">' in html
    assert f'<tr class="at-risk" data-tenant="{AT_RISK}" data-status="at-risk">' in html
    assert f'<tr class="ok" data-tenant="{FINE}" data-status="ok">' in html
    assert f'<tr class="no-data" data-tenant="{NO_DATA}" data-status="no-data">' in html
    assert '<tr class="breach" data-plan="enterprise">' in html
    assert "1 of 4 tenants breached" in html


def test_page_draws_a_chart_per_tenant(airflow_api, api_token):
    html = airflow_api.get(f"/sla/?period={CURRENT}", token=api_token).text
    for tenant in (BREACHED, AT_RISK, FINE, NO_DATA):
        assert f'data-tenant="{tenant}" viewBox=' in html
    assert html.count('<circle class="budget"') == 3 * len(SAVED_DAYS)  # one point a day; no data draws none
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_final_period_is_shown_on_request(airflow_api, api_token):
    html = airflow_api.get(f"/sla/?period={PREVIOUS}", token=api_token).text
    assert f'<h2>{PREVIOUS} <span class="kind">(final)</span></h2>' in html
    assert 'data-status="breach"' not in html


def test_csv_download_lists_the_breached_tenant(airflow_api, api_token):
    answer = airflow_api.get(f"/sla/periods/{CURRENT}.csv", token=api_token)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == f'attachment; filename="sla-{CURRENT}.csv"'
    rows = {row["tenant"]: row for row in csv.DictReader(io.StringIO(answer.text))}
    assert set(rows) == {BREACHED, AT_RISK, FINE, NO_DATA}
    assert (rows[BREACHED]["breach"], rows[BREACHED]["status"]) == ("True", "breach")
    assert float(rows[BREACHED]["budget_remaining_ratio"]) < 0
    assert (rows[FINE]["breach"], rows[FINE]["status"]) == ("False", "ok")
    assert rows[NO_DATA]["uptime_ratio"] == "" and rows[NO_DATA]["status"] == "no-data"


def test_json_download_carries_tables_and_daily_history(airflow_api, api_token):
    answer = airflow_api.get(f"/sla/periods/{CURRENT}.json", token=api_token)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    report = answer.json()
    assert report["period"]["period"] == CURRENT and report["period"]["kind"] == "provisional"
    assert [t["tenant"] for t in report["tenants"] if t["breach"]] == [BREACHED]
    assert {p["plan"]: p["breaches"] for p in report["plans"]} == {"enterprise": 1, "pro": 0, "free": 0}
    days = [h["as_of_date"] for h in report["history"] if h["tenant"] == BREACHED]
    assert days == [f"2026-11-{day:02d}" for day in SAVED_DAYS]


@pytest.mark.parametrize(
    "path", ["/sla/?period=1999-01", "/sla/periods/1999-01.csv", "/sla/periods/1999-01.json"]
)
def test_unknown_period_is_not_found(airflow_api, api_token, path):
    answer = airflow_api.get(path, token=api_token)
    assert answer.status_code == 404
    assert "no SLA report is stored for period 1999-01" in answer.text


@pytest.mark.parametrize(
    "path", ["/sla/?period=2026-13", "/sla/periods/2026-1.csv", "/sla/periods/..%2F..json"]
)
def test_malformed_period_is_rejected(airflow_api, api_token, path):
    assert airflow_api.get(path, token=api_token).status_code in (404, 422)


def test_plugin_adds_a_framed_nav_entry(airflow_api, api_token):
    plugins = airflow_api.get("/api/v2/plugins", token=api_token).json()["plugins"]
    plugin = next(p for p in plugins if p["name"] == "sla_reports")
    assert plugin["fastapi_apps"][0]["url_prefix"] == "/sla"
    view = plugin["external_views"][0]
    assert (view["href"], view["destination"], view["url_route"]) == ("/sla/", "nav", "sla-reports")
