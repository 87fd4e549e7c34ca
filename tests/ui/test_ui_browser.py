"""Headless Chromium against the real api-server: log in to the Airflow UI, use the SLA page, trigger a DAG.

Screenshots are kept in ``test-artifacts/ui/`` (git-ignored).
"""

from __future__ import annotations

import csv
import http.server
import threading
import time
import uuid
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import WAIT, trigger_from_form
from tests.browser import log_in as browser_log_in
from tests.ui.conftest import PASSWORD, USERNAME, pdf_text
from tests.ui.sla_seed import BREACHED, CURRENT, HOSTILE, HOSTILE_PERIOD

BREACH_BACKGROUND = "rgba(253, 226, 225, 1)"  # --breach in the page's stylesheet


def log_in(driver, base_url: str) -> None:
    browser_log_in(driver, base_url, USERNAME, PASSWORD)


def full_page_screenshot(driver, path: Path) -> None:
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": int(size["width"]), "height": int(size["height"]), "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        driver.save_screenshot(str(path))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def breached_row(driver):
    row = WebDriverWait(driver, WAIT).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, "#tenants tr[data-status=breach]"))
    )
    return row


def test_logged_in_user_finds_the_breached_tenant_and_downloads_the_csv(browser, airflow_api, artifacts):
    log_in(browser, airflow_api.url)
    browser.get(f"{airflow_api.url}/sla/")

    row = breached_row(browser)
    assert row.get_attribute("data-tenant") == BREACHED
    assert row.value_of_css_property("background-color") == BREACH_BACKGROUND
    assert "BREACH" in row.text
    chart = browser.find_element(By.CSS_SELECTOR, f'svg.tenant-chart.breach[data-tenant="{BREACHED}"]')
    assert chart.is_displayed()
    full_page_screenshot(browser, artifacts / "sla-page.png")

    browser.find_element(By.ID, "download-csv").click()
    downloaded = browser.downloads / f"sla-{CURRENT}.csv"
    WebDriverWait(browser, WAIT).until(lambda _: downloaded.exists() and downloaded.stat().st_size > 0)
    with downloaded.open(newline="") as f:
        rows = {r["tenant"]: r for r in csv.DictReader(f)}
    assert rows[BREACHED]["status"] == "breach" and rows[BREACHED]["breach"] == "True"


def test_breached_tenant_opens_with_bars_and_incidents_and_its_statement_downloads_as_pdf(
    browser, airflow_api, artifacts
):
    log_in(browser, airflow_api.url)
    browser.get(f"{airflow_api.url}/sla/?period={CURRENT}")
    breached_row(browser).find_element(By.CSS_SELECTOR, "a.tenant-link").click()

    bars = WebDriverWait(browser, WAIT).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, f'svg.day-bars[data-tenant="{BREACHED}"]'))
    )
    assert f"/sla/{CURRENT}/tenants/{BREACHED}" in browser.current_url
    assert len(bars.find_elements(By.CSS_SELECTOR, "rect.day")) == 30
    red = bars.find_elements(By.CSS_SELECTOR, "rect.day.major")
    assert [r.get_attribute("data-day") for r in red] == ["3", "5", "9", "12"]
    assert red[0].value_of_css_property("fill") == "rgb(197, 48, 48)"  # the stylesheet reached the page
    incidents = browser.find_elements(By.CSS_SELECTOR, "#incidents tbody tr.counted")
    assert len(incidents) == 4 and "2026-11-03 10:00:00" in incidents[0].text
    assert browser.find_element(By.ID, "uptime").text == "99.380%"
    full_page_screenshot(browser, artifacts / "sla-tenant-page.png")

    browser.find_element(By.ID, "statement-pdf").click()
    downloaded = browser.downloads / f"sla-statement-{CURRENT}-{BREACHED}.pdf"
    WebDriverWait(browser, WAIT).until(lambda _: downloaded.exists() and downloaded.stat().st_size > 0)
    text = pdf_text(downloaded.read_bytes(), artifacts / "sla-statement.pdf")
    for expected in (BREACHED, CURRENT, "99.380%", "10% of the monthly fee"):
        assert expected in text, text


def test_a_tenant_named_with_a_script_tag_stays_text(browser, airflow_api, artifacts):
    log_in(browser, airflow_api.url)
    browser.get(f"{airflow_api.url}/sla/?period={HOSTILE_PERIOD}")
    row = WebDriverWait(browser, WAIT).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, "#tenants tbody tr"))
    )
    assert row.get_attribute("data-tenant") == HOSTILE
    row.find_element(By.CSS_SELECTOR, "a.tenant-link").click()
    name = WebDriverWait(browser, WAIT).until(EC.visibility_of_element_located((By.ID, "tenant-name")))
    assert name.text == HOSTILE
    assert browser.find_elements(By.TAG_NAME, "script") == []
    assert browser.find_elements(By.TAG_NAME, "img") == []
    assert EC.alert_is_present()(browser) is False
    full_page_screenshot(browser, artifacts / "sla-tenant-markup-name.png")


def test_sla_page_opens_framed_from_the_airflow_navigation(browser, airflow_api, artifacts):
    log_in(browser, airflow_api.url)
    WebDriverWait(browser, WAIT).until(
        EC.element_to_be_clickable((By.CSS_SELECTOR, "[aria-label=Browse]"))
    ).click()
    WebDriverWait(browser, WAIT).until(
        EC.element_to_be_clickable((By.XPATH, "//*[normalize-space(text())='SLA reports']"))
    ).click()

    frame = WebDriverWait(browser, WAIT).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "iframe[title='SLA reports']"))
    )
    assert "/plugin/sla-reports" in browser.current_url
    browser.switch_to.frame(frame)
    try:
        assert breached_row(browser).get_attribute("data-tenant") == BREACHED
    finally:
        browser.switch_to.default_content()
    browser.save_screenshot(str(artifacts / "sla-in-airflow-nav.png"))


def test_sla_page_refuses_to_be_framed_by_another_origin(browser, airflow_api, artifacts):
    log_in(browser, airflow_api.url)  # the cookie is sent: only the page's CSP stops the framing
    page = (
        f'<html><body><iframe id="f" src="{airflow_api.url}/sla/" width="900" height="500">'
        "</iframe></body></html>"
    )

    class Foreign(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page.encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Foreign)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        browser.get(f"http://127.0.0.1:{server.server_address[1]}/")
        browser.switch_to.frame(
            WebDriverWait(browser, WAIT).until(EC.presence_of_element_located((By.ID, "f")))
        )
        time.sleep(1)  # a blocked frame never loads: give an allowed one the time it would need
        framed = browser.page_source
        browser.switch_to.default_content()
    finally:
        server.shutdown()
        server.server_close()
    assert BREACHED not in framed
    refusals = [e["message"] for e in browser.get_log("browser") if "frame-ancestors" in e["message"]]
    assert refusals, "the frame did not load, but not because of the page's frame-ancestors policy"
    browser.save_screenshot(str(artifacts / "sla-framed-by-foreign-origin.png"))


@pytest.mark.parametrize(
    "dag_id, param, value", [("backup_verify", "compression", 3), ("build_size_watchdog", "app", "web")]
)
def test_trigger_form_creates_a_run_with_the_changed_param(
    browser, airflow_api, api_token, artifacts, dag_id, param, value
):
    log_in(browser, airflow_api.url)
    run_id = f"ui_{uuid.uuid4().hex[:12]}"
    trigger_from_form(browser, airflow_api.url, dag_id, param, value, run_id, artifacts)

    run = _wait_for_run(airflow_api, api_token, dag_id, run_id)
    assert run["conf"][param] == value
    assert run["run_type"] == "manual"
    browser.get(f"{airflow_api.url}/dags/{dag_id}/runs/{run_id}")
    WebDriverWait(browser, WAIT).until(
        EC.presence_of_element_located((By.XPATH, f"//*[contains(., '{run_id}')]"))
    )
    browser.save_screenshot(str(artifacts / f"trigger-{dag_id}-run.png"))


def _wait_for_run(airflow_api, token: str, dag_id: str, run_id: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = airflow_api.get(
            f"/api/v2/dags/{dag_id}/dagRuns", token=token, params={"order_by": "-run_after", "limit": 50}
        ).json()["dag_runs"]
        found = [r for r in runs if r["dag_run_id"] == run_id]
        if found:
            return found[0]
        time.sleep(0.3)
    raise AssertionError(f"no run {run_id} of {dag_id} was created within {timeout:.0f}s")
