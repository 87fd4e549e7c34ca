"""API v3: the client against the fake's v3 (same data set as v2), the connection choosing the version,
the same stored report through both APIs, and a token that never leaks."""

from __future__ import annotations

import json
import logging

import psycopg
import pytest

from reliability.core.config import ConfigError
from reliability.sla.config import parse_config
from reliability.sla.run import run
from reliability.sla.uptime import MonitorInput, counted_intervals, figures
from reliability.sla.uptimerobot import UptimeRobotClient
from reliability.sla.uptimerobot_http import UptimeRobotApiError, UptimeRobotError, UptimeRobotRateLimited
from reliability.sla.uptimerobot_settings import UptimeRobotSettings
from reliability.sla.uptimerobot_v3 import UptimeRobotV3Client
from stack.fake_uptimerobot import DataSet, FakeUptimeRobot
from stack.fake_uptimerobot_v3 import plan_rate_limit
from tests.sla.support import API_KEY, NOW, TENANTS, TOKEN, acme_shop, as_dicts, secret_free, stored
from tests.sla.test_sla_client import NOW_S, REQUEST, Sleeps

CONFIG = parse_config(
    {
        "plans": {"free": 0.95, "pro": 0.99, "enterprise": 0.999},
        "mapping": {"tenants": {t["slug"]: t["plan"] for t in TENANTS}},
    }
)


@pytest.fixture
def fake_v3(fake):
    fake.v3_token = TOKEN
    yield fake
    fake.v3_token = API_KEY


def v3_client(fake, sleeps=None, **options) -> UptimeRobotV3Client:
    settings = {"timeout": 5.0, "attempts": 4, "backoff_initial": 0.01, "backoff_max": 0.05, **options}
    return UptimeRobotV3Client(
        fake.url_v3, TOKEN, v2_api_key=API_KEY, sleep=sleeps if sleeps is not None else Sleeps(), **settings
    )


@pytest.mark.parametrize("interval_end", [NOW, NOW.replace(day=1, hour=0)], ids=["provisional", "final"])
def test_the_same_data_set_through_v2_and_v3_stores_the_same_report_figure_for_figure(
    fake_v3, results_dsn, interval_end
):
    reports = {}
    for version, settings in (
        (2, UptimeRobotSettings(fake_v3.url, API_KEY)),
        (3, UptimeRobotSettings(fake_v3.url_v3, TOKEN, api_version=3, v2_api_key=API_KEY)),
    ):
        (outcome,) = as_dicts(
            run(
                uptimerobot=settings,
                results_dsn=results_dsn,
                interval_end=interval_end,
                interval_key=f"{interval_end:%Y-%m-%d}",
                config=CONFIG,
            )
        )
        reports[version] = stored(results_dsn, outcome["subject"]["period"])
        assert TOKEN not in json.dumps(outcome) and API_KEY not in json.dumps(outcome)
    assert reports[3]["monitors"] and reports[3]["summary"]["breaches"]
    assert any(row for row in reports[3]["monitors"] if row)  # rows with figures, not an empty report
    assert reports[2] == reports[3]
    with psycopg.connect(results_dsn) as conn:
        for table in ("sla_reports", "sla_monitor_rows", "sla_tenant_rows", "sla_tenant_snapshots"):
            text = " ".join(str(row) for row in conn.execute(f"SELECT * FROM reliability.{table}"))
            assert text and TOKEN not in text and API_KEY not in text
    assert any(r.endpoint == "v3/incidents" for r in fake_v3.requests)


def test_v3_reads_monitors_200_per_page_with_the_cursor_and_incidents_of_the_window(fake_v3, dataset):
    client = v3_client(fake_v3)
    snapshot = client.fetch(REQUEST)
    pages = [r for r in fake_v3.requests if r.endpoint == "v3/monitors"]
    assert [p.params["limit"] for p in pages] == ["200"] and "cursor" not in pages[0].params
    assert len(snapshot.monitors) == len(dataset.monitors)
    assert snapshot.requests == fake_v3.request_count
    incidents = [r for r in fake_v3.requests if r.endpoint == "v3/incidents" and "monitor_id" not in r.params]
    assert incidents and incidents[0].params["started_after"].endswith("Z")
    assert {w for m in snapshot.monitors for w in m.maintenance_window_ids} <= set(
        snapshot.maintenance_windows
    )
    assert not any(r.endpoint.startswith("v3/") and r.status != 200 for r in fake_v3.requests)


def test_v3_cursor_pages_follow_next_link_until_it_is_null(fake_v3, dataset):
    client = v3_client(fake_v3)
    body = client._get("monitors", {"limit": 2})
    assert len(body["data"]) == 2 and "cursor=" in body["nextLink"]
    items = client._pages("monitors", {"limit": 7})
    assert [i["id"] for i in items] == sorted(m.id for m in dataset.monitors)
    cursors = [r.params.get("cursor") for r in fake_v3.requests if r.params.get("limit") == "7"]
    assert cursors[0] is None and len(cursors) == -(-len(dataset.monitors) // 7)


def test_an_outage_that_began_before_the_look_back_is_settled_through_v2_and_its_incident():
    start = REQUEST.logs_start
    monitor = acme_shop(
        start - 30 * 86_400,
        [(1, start - 3600), (1, start - 600), (2, start + 7200), (99, start + 9000)],
    )
    with FakeUptimeRobot(DataSet([monitor], [], NOW_S), API_KEY, v3_token=TOKEN) as fake:
        snapshot = v3_client(fake).fetch(REQUEST)
        lookups = [r for r in fake.requests if r.params.get("monitor_id") == "42"]
    assert len(lookups) == 1  # the incident open when the look-back starts
    fetched = snapshot.monitors[0]
    assert fetched.status == 0  # PAUSED
    counted = counted_intervals(
        MonitorInput(fetched.created_at, fetched.status, fetched.entries), start, start + 86_400
    )
    result = figures(counted, start, start + 86_400)
    assert (result.downtime_seconds, result.monitored_seconds) == (7200, 9000)


def test_a_bad_token_is_a_401_named_in_the_error_without_the_token(fake_v3, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = TOKEN[:-1] + "x"
    with pytest.raises(UptimeRobotApiError, match="HTTP 401.*API v3 token") as caught:
        UptimeRobotV3Client(fake_v3.url_v3, wrong, v2_api_key=API_KEY, sleep=Sleeps()).fetch(REQUEST)
    assert secret_free(caught.value, wrong) and secret_free(caught.value, API_KEY)
    assert [r.status for r in fake_v3.requests] == [401]  # not retried
    assert all(wrong not in r.getMessage() for r in caplog.records)


def test_v3_errors_rate_limits_and_retries(fake_v3):
    fake_v3.throttle_next(1)
    fake_v3.fail_next(1, 502)
    sleeps = Sleeps()
    v3_client(fake_v3, sleeps).fetch(REQUEST)
    assert [r.status for r in fake_v3.requests][:3] == [429, 502, 200]
    assert sleeps[0] == pytest.approx(1.0)  # Retry-After
    fake_v3.reset()
    fake_v3.retry_after = 900
    fake_v3.throttle_next(1)
    with pytest.raises(UptimeRobotRateLimited, match="900 s"):
        v3_client(fake_v3, max_rate_limit_wait=5).fetch(REQUEST)
    fake_v3.reset()
    client = v3_client(fake_v3)
    with pytest.raises(UptimeRobotApiError, match=r"HTTP 400 \(Limit must be between 1 and 200\)"):
        client._get("monitors", {"limit": 500})
    with pytest.raises(UptimeRobotApiError, match="HTTP 404.*base URL"):
        client._get("monitor", {})


def test_the_free_plan_limit_is_paced_not_exceeded(fake_v3):
    fake_v3.rate_limit_per_minute = plan_rate_limit("free")
    fake_v3.window_seconds = 2.0
    assert (
        plan_rate_limit("free") == 10
        and plan_rate_limit("pro", 100) == 200
        and plan_rate_limit("pro", 10**4) == 5000
    )
    client = v3_client(fake_v3)
    for _ in range(12):
        client._get("maintenance-windows", {})
    assert all(r.status == 200 for r in fake_v3.requests) and fake_v3.request_count == 12


def test_the_token_and_the_v2_key_never_appear_in_errors_logs_or_results(fake_v3, caplog):
    caplog.set_level(logging.DEBUG)
    failures = []
    for knob in (lambda: fake_v3.fail_next(5, 500), lambda: fake_v3.malformed_next(1)):
        fake_v3.reset()
        knob()
        with pytest.raises(UptimeRobotError) as caught:
            v3_client(fake_v3, attempts=2).fetch(REQUEST)
        failures.append(caught.value)
    fake_v3.reset()
    with pytest.raises(UptimeRobotApiError) as wrong_v2_key:
        UptimeRobotV3Client(fake_v3.url_v3, TOKEN, v2_api_key=API_KEY + "x", sleep=Sleeps()).fetch(REQUEST)
    failures.append(wrong_v2_key.value)
    for failure in failures:
        assert secret_free(failure, TOKEN) and secret_free(failure, API_KEY), failure
        assert failure.__context__ is None and failure.__cause__ is None
    client = v3_client(fake_v3)
    snapshot = client.fetch(REQUEST)
    settings = UptimeRobotSettings(fake_v3.url_v3, TOKEN, api_version=3, v2_api_key=API_KEY)
    for value in (snapshot, client, settings):
        assert secret_free(value, TOKEN) and secret_free(value, API_KEY)
    assert TOKEN not in repr(vars(client)) and API_KEY not in repr(vars(client))
    assert all(TOKEN not in r.getMessage() and API_KEY not in r.getMessage() for r in caplog.records)
    assert all(TOKEN not in json.dumps(r.params) for r in fake_v3.requests)


@pytest.mark.parametrize(
    ("base_url", "extra", "version"),
    [
        ("https://api.uptimerobot.com/v2", {}, 2),
        ("https://api.uptimerobot.com", {}, 2),
        ("https://api.uptimerobot.com/v3", {"v2_api_key": "k"}, 3),
        ("https://api.uptimerobot.com", {"api_version": 3, "v2_api_key": "k"}, 3),
        ("https://api.uptimerobot.com", {"api_version": "3", "v2_api_key": "k"}, 3),
    ],
)
def test_the_connection_chooses_the_api_version(base_url, extra, version):
    settings = UptimeRobotSettings.from_connection(base_url, "secret", extra)
    client = settings.client()
    assert settings.api_version == version
    assert isinstance(client, UptimeRobotV3Client if version == 3 else UptimeRobotClient)
    assert client.base_url.endswith(f"/v{version}")
    assert "secret" not in repr(settings)


@pytest.mark.parametrize(
    ("base_url", "extra", "message"),
    [
        ("https://api.uptimerobot.com", {"api_version": 4}, "must be 2 or 3"),
        ("https://api.uptimerobot.com/v3", {"api_version": 2}, "ends in /v3"),
        ("https://api.uptimerobot.com/v2", {"api_version": 3}, "ends in /v2 but extra.api_version is 3"),
        ("https://api.uptimerobot.com", {"apiversion": 3}, "unknown key"),
    ],
)
def test_a_wrong_connection_extra_is_a_config_error(base_url, extra, message):
    with pytest.raises(ConfigError, match=message):
        UptimeRobotSettings.from_connection(base_url, "secret", extra)


def test_v3_without_a_v2_key_says_what_is_missing_and_where_to_set_it():
    settings = UptimeRobotSettings.from_connection("https://api.uptimerobot.com/v3", "token", {})
    with pytest.raises(UptimeRobotError, match="no pause history.*v2_api_key.*uptimerobot"):
        settings.client()


def test_v2_and_v3_agree_on_an_outage_across_the_look_back_start_and_a_pause(mapping, config):
    from dataclasses import replace

    from reliability.sla.period import Period
    from reliability.sla.report import compute_sla_report

    period = Period.containing(NOW)
    start = int(period.start.timestamp()) - (config.lookback_days + 7) * 86_400
    first = int(period.start.timestamp())
    monitor = acme_shop(
        start - 30 * 86_400,
        [
            (1, start - 3600),
            (2, first + 7200),
            (99, first + 9000),
            (98, first + 3 * 86_400),
            (1, first + 4 * 86_400),
        ],
    )
    with FakeUptimeRobot(DataSet([monitor], [], NOW_S), API_KEY, v3_token=TOKEN) as fake:
        reports = [
            replace(compute_sla_report(client, mapping, config, period.start, period.end, NOW), requests=0)
            for client in (UptimeRobotClient(fake.url, API_KEY), v3_client(fake))
        ]
    assert reports[0] == reports[1]
    (row,) = reports[1].monitors
    assert row.downtime_seconds > 7200  # down from the 1st until 02:00, and again from the 5th on


def test_the_uptimerobot_airflow_connection_becomes_the_settings(monkeypatch):
    from types import SimpleNamespace

    from reliability.airflow import connections

    conn = SimpleNamespace(
        host="api.uptimerobot.com",
        port=None,
        schema="https",
        password=TOKEN,
        extra_dejson={"api_version": 3, "v2_api_key": API_KEY},
    )
    monkeypatch.setattr(connections, "get", lambda conn_id: conn if conn_id == "uptimerobot" else None)
    settings = connections.uptimerobot_settings()
    assert (settings.base_url, settings.api_key, settings.api_version, settings.v2_api_key) == (
        "https://api.uptimerobot.com",
        TOKEN,
        3,
        API_KEY,
    )
    assert settings.client().base_url == "https://api.uptimerobot.com/v3"


def test_slow_response_incidents_are_not_downtime_and_unreadable_ones_fail(fake_v3):
    client = v3_client(fake_v3)
    base = {"id": "1", "monitor": {"id": 5}, "startedAt": "2026-11-02T10:00:00.000Z", "resolvedAt": None}
    assert client._incident({**base, "type": "SLOW_RESPONSE"}) == (0, 0, None)
    assert client._incident({**base, "type": "DOWNTIME"}) == (5, 1_793_613_600, None)
    assert client._incident({**base, "resolvedAt": "2026-11-02T10:30:00Z"})[2] == 1_793_615_400
    with pytest.raises(UptimeRobotError, match="incident '1' cannot be read"):
        client._incident({**base, "startedAt": "2026-11-02 10:00"})  # no time zone
