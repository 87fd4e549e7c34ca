"""The tenant page after a real SLA run on the fake UptimeRobot (API v2): the incidents show UptimeRobot's
reason code and detail, and the reconciliation puts UptimeRobot's own daily figure next to ours."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from reliability.sla.run import run
from reliability.sla.uptimerobot_settings import UptimeRobotSettings
from stack.fake_uptimerobot import FakeUptimeRobot, generate_dataset, provider_uptime
from tests.sla.support import API_KEY, NOW, TENANTS
from tests.sla.test_sla_v3 import CONFIG

NOW_S = int(NOW.timestamp())
PERIOD = f"{NOW:%Y-%m}"


@pytest.fixture(scope="module")
def dataset():
    return generate_dataset(TENANTS, seed=11, now=NOW_S)


@pytest.fixture
def stored(dataset, results_dsn):
    with FakeUptimeRobot(dataset, API_KEY) as fake:
        run(
            uptimerobot=UptimeRobotSettings(fake.url, API_KEY),
            results_dsn=results_dsn,
            interval_end=NOW,
            interval_key=f"{NOW:%Y-%m-%d}",
            config=CONFIG,
        )
    return results_dsn


def monitor(dataset, key: str):
    return next(m for m in dataset.monitors if m.id == dataset.facts[key])


def test_incidents_show_uptimerobots_reason_code_and_detail(client_for, dataset, stored):
    victim = monitor(dataset, "breaching_monitor_id")
    html = client_for(stored).get(f"/{PERIOD}/tenants/{dataset.facts['breaching_tenant']}").text
    month_start = int(NOW.replace(day=1, hour=0).timestamp())
    outage = next(log for log in victim.logs if log.type == 1 and log.datetime >= month_start)
    code, detail = outage.reason
    start = datetime.fromtimestamp(outage.datetime, UTC).strftime("%Y-%m-%d %H:%M:%S")
    row = re.search(rf'<tr class="counted" data-monitor="{victim.id}"><td>{start}</td>.*?</tr>', html)
    assert row, html
    assert f"<td>{code}</td>" in row.group(0) and f'<td class="detail">{detail}</td>' in row.group(0)


def test_reconciliation_shows_uptimerobots_figure_of_the_maintenance_day(client_for, dataset, stored):
    fixed = monitor(dataset, "maintenance_outage_monitor_id")
    tenant = fixed.friendly_name.split("/")[0]
    html = client_for(stored).get(f"/{PERIOD}/tenants/{tenant}").text
    day = datetime.fromtimestamp(NOW_S, UTC).replace(day=1, hour=0)
    start = int(day.timestamp())
    theirs = float(f"{provider_uptime(fixed, start, start + 86_400, NOW_S):.3f}")
    assert theirs < 99.9  # UptimeRobot counts the outage in the maintenance window, we leave it out
    rows = re.findall(
        r'<tr class="" data-cause="maintenance excluded"><td>([^<]+)</td><td class="left">([^<]+)</td>'
        r"<td>([^<]+)</td><td>([^<]+)</td>",
        html,
    )
    assert (f"{day:%Y-%m-%d}", fixed.friendly_name, "100.000%", f"{theirs:.3f}%") in rows, html
    compared = re.search(r"(\d+) of (\d+) monitor-days differ from UptimeRobot", html)
    assert compared and int(compared.group(2)) >= 16  # each monitor of the tenant, each day to date
    # the fake's figures follow its own logs: every difference, on every tenant's page, has its cause
    for slug in sorted(
        {m.friendly_name.split("/")[0] for m in dataset.monitors} & {t["slug"] for t in TENANTS}
    ):
        page = client_for(stored).get(f"/{PERIOD}/tenants/{slug}").text
        summary = re.search(r'<p id="reconciliation-summary">(.*?)</p>', page)
        assert summary and "unexplained" not in summary.group(1), (slug, summary)
        assert 'data-cause="unexplained"' not in page


def test_the_tenant_page_and_statement_show_the_platform_name_as_text(client_for, dataset, results_dsn):
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(results_dsn)
    with psycopg.connect(make_conninfo(**{**params, "dbname": "postgres"}), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS sla_names_platform")
        conn.execute("CREATE DATABASE sla_names_platform")
    platform = make_conninfo(**{**params, "dbname": "sla_names_platform"})
    tenant = dataset.facts["breaching_tenant"]
    hostile = "<script>alert(1)</script> Acme & Co"
    with psycopg.connect(platform) as conn:
        conn.execute("CREATE TABLE tenants (slug text PRIMARY KEY, name text NOT NULL, plan text NOT NULL)")
        for t in TENANTS:
            name = hostile if t["slug"] == tenant else f"{t['slug'].title()} Ltd"
            conn.execute("INSERT INTO tenants VALUES (%s, %s, %s)", (t["slug"], name, t["plan"]))
    with FakeUptimeRobot(dataset, API_KEY) as fake:
        run(
            uptimerobot=UptimeRobotSettings(fake.url, API_KEY),
            results_dsn=results_dsn,
            platform_dsn=platform,
            interval_end=NOW,
            interval_key=f"{NOW:%Y-%m-%d}",
            config=CONFIG,
        )
    client = client_for(results_dsn)
    for path in ("", "/statement"):
        html = client.get(f"/{PERIOD}/tenants/{tenant}{path}").text
        assert f"&lt;script&gt;alert(1)&lt;/script&gt; Acme &amp; Co ({tenant})" in html, path
        assert "<script>alert(1)" not in html
