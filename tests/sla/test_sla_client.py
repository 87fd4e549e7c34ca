"""The UptimeRobot client against the fake API: pagination, rate limits, retries, errors, and a key that never leaks."""

from __future__ import annotations

import logging
import math
import time

import pytest

from reliability.sla.source import FetchRequest
from reliability.sla.uptime import MonitorInput, counted_intervals, figures
from reliability.sla.uptimerobot import (
    UptimeRobotApiError,
    UptimeRobotBadResponse,
    UptimeRobotClient,
    UptimeRobotRateLimited,
    UptimeRobotUnavailable,
)
from stack.fake_uptimerobot import DataSet, FakeUptimeRobot, generate_dataset
from stack.processes import free_port
from tests.sla.support import API_KEY, NOW, acme_shop, secret_free

NOW_S = int(NOW.timestamp())
MONTH_START = NOW_S - 15 * 86_400 - 6 * 3600
REQUEST = FetchRequest(
    logs_start=MONTH_START - 10 * 86_400, logs_end=NOW_S, uptime_range=(MONTH_START, NOW_S)
)

FIRST_DAY = MONTH_START - MONTH_START % 86_400
# UptimeRobot's figure for each UTC day of the range too, the last one up to the range's end
DAYS = [(d, min(d + 86_400, NOW_S)) for d in range(FIRST_DAY, NOW_S, 86_400)]


class Sleeps(list):
    """Records every wait the client asks for, and really waits (the fake's rate window is real time)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(seconds)


def client_for(fake, sleeps=None, **options) -> UptimeRobotClient:
    settings = {"timeout": 5.0, "attempts": 4, "backoff_initial": 0.01, "backoff_max": 0.05, **options}
    return UptimeRobotClient(fake.url, API_KEY, sleep=sleeps if sleeps is not None else Sleeps(), **settings)


def listing_pages(fake) -> list[str]:
    return [
        r.params["offset"]
        for r in fake.requests
        if r.endpoint == "getMonitors" and "monitors" not in r.params
    ]


def test_fetch_pages_through_all_monitors_fifty_at_a_time():
    tenants = [
        {"slug": f"tenant-{i:03d}", "plan": "pro", "sites": [f"site-{i:03d}.example.com"]} for i in range(120)
    ]
    dataset = generate_dataset(tenants, seed=5, now=NOW_S)
    with FakeUptimeRobot(dataset, API_KEY) as fake:
        snapshot = client_for(fake).fetch(REQUEST)
        pages = math.ceil(len(dataset.monitors) / 50)
        assert listing_pages(fake) == ["0", "50", "100"][:pages] and pages == 3
        assert fake.count("getMonitors") <= 2 * pages  # plus at most one look-back call per 50 monitors
        assert fake.count("getMWindows") == 1
    assert sorted(m.id for m in snapshot.monitors) == sorted(m.id for m in dataset.monitors)
    assert snapshot.requests == fake.request_count
    assert {w.type for w in snapshot.maintenance_windows.values()} == {1, 2, 3, 4}


def test_fetch_asks_for_logs_up_to_the_present_with_uptime_cross_check(fake):
    present = NOW_S + 5 * 86_400
    client_for(fake, clock=lambda: present).fetch(REQUEST)
    listing = next(r for r in fake.requests if r.endpoint == "getMonitors")
    assert listing.params == {
        "format": "json",
        "logs": "1",
        "logs_start_date": str(REQUEST.logs_start),
        "logs_end_date": str(present),
        "log_types": "1-2-98-99",
        "mwindows": "1",
        "custom_uptime_ranges": "-".join(f"{a}_{b}" for a, b in [(MONTH_START, NOW_S), *DAYS]),
        "offset": "0",
        "limit": "50",
    }


def test_rate_limited_request_waits_retry_after_then_succeeds(fake):
    fake.throttle_next(1)
    sleeps = Sleeps()
    snapshot = client_for(fake, sleeps).fetch(REQUEST)
    assert [r.status for r in fake.requests][:2] == [429, 200]
    assert sleeps == [1.0]  # exactly the Retry-After the fake sent
    assert snapshot.monitors


def test_client_paces_itself_before_the_limit_is_hit(fake):
    fake.rate_limit_per_minute = 2
    fake.window_seconds = 1.0
    sleeps = Sleeps()
    client_for(fake, sleeps).fetch(REQUEST)
    assert fake.request_count >= 3
    assert all(r.status == 200 for r in fake.requests)  # never a 429: it waited for the window to reset
    assert sleeps and all(0 < s <= 2.0 for s in sleeps)


def test_a_rate_limit_wait_longer_than_allowed_fails_at_once(fake):
    fake.retry_after = 900
    fake.throttle_next(1)
    sleeps = Sleeps()
    with pytest.raises(UptimeRobotRateLimited, match="wait 900 s"):
        client_for(fake, sleeps, max_rate_limit_wait=60).fetch(REQUEST)
    assert sleeps == []


def test_stat_fail_names_the_bad_parameter_and_is_not_retried(fake):
    client = UptimeRobotClient(fake.url, "u1111111-wrongwrongwrongwrong", sleep=Sleeps())
    with pytest.raises(UptimeRobotApiError) as caught:
        client.fetch(REQUEST)
    assert caught.value.parameter == "api_key"
    assert caught.value.error_type == "invalid_parameter"
    assert "`uptimerobot` connection" in str(caught.value)
    assert "wrongwrong" not in str(caught.value)
    assert fake.request_count == 1


def test_malformed_json_is_a_clear_error_and_not_retried(fake):
    fake.malformed_next(1)
    with pytest.raises(UptimeRobotBadResponse, match="getMonitors: answer is not JSON"):
        client_for(fake).fetch(REQUEST)
    assert fake.request_count == 1


def test_a_timeout_is_retried(fake):
    fake.delay_next(1, 1.5)
    sleeps = Sleeps()
    snapshot = client_for(fake, sleeps, timeout=0.3).fetch(REQUEST)
    assert snapshot.monitors
    assert fake.count("getMonitors", 200) >= 2 and len(sleeps) == 1


def test_timeouts_that_outlast_the_retries_raise_unavailable(fake):
    fake.delay_next(2, 1.5)
    with pytest.raises(UptimeRobotUnavailable, match="no answer .* within 0.3 s .*gave up after 2 attempts"):
        client_for(fake, timeout=0.3, attempts=2).fetch(REQUEST)


def test_server_errors_are_retried_with_backoff(fake):
    fake.fail_next(2, 502)
    sleeps = Sleeps()
    snapshot = client_for(fake, sleeps).fetch(REQUEST)
    assert [r.status for r in fake.requests][:3] == [502, 502, 200]
    assert len(sleeps) == 2 and all(s <= 0.05 + 0.01 for s in sleeps)
    assert snapshot.monitors


def test_persistent_server_errors_raise_after_the_attempts(fake):
    fake.fail_next(10, 500)
    with pytest.raises(UptimeRobotUnavailable, match="HTTP 500 .*gave up after 3 attempts"):
        client_for(fake, attempts=3).fetch(REQUEST)
    assert fake.request_count == 3


def test_an_unreachable_api_is_retried_then_unavailable():
    client = UptimeRobotClient(
        f"http://127.0.0.1:{free_port()}", API_KEY, attempts=2, backoff_initial=0.01, sleep=Sleeps()
    )
    with pytest.raises(UptimeRobotUnavailable, match="cannot connect"):
        client.fetch(REQUEST)


def test_the_api_key_never_appears_in_errors_logs_or_results(fake, caplog):
    caplog.set_level(logging.DEBUG)
    failures = []
    for knob in (
        lambda: fake.fail_next(5, 500),
        lambda: fake.malformed_next(1),
        lambda: fake.delay_next(2, 1.0),
        lambda: setattr(fake, "retry_after", 900) or fake.throttle_next(1),
    ):
        fake.reset()
        knob()
        with pytest.raises(Exception) as caught:
            client_for(fake, timeout=0.3, attempts=2, max_rate_limit_wait=5).fetch(REQUEST)
        failures.append(caught.value)
    fake.reset()
    with pytest.raises(UptimeRobotApiError) as wrong_key:
        UptimeRobotClient(fake.url, API_KEY + "x", sleep=Sleeps()).fetch(REQUEST)
    failures.append(wrong_key.value)
    with pytest.raises(UptimeRobotUnavailable) as unreachable:
        UptimeRobotClient(f"http://127.0.0.1:{free_port()}", API_KEY, attempts=1).fetch(REQUEST)
    failures.append(unreachable.value)
    assert len(failures) == 6
    for failure in failures:
        assert secret_free(failure), failure
        assert failure.__context__ is None and failure.__cause__ is None  # no chained requests exception
    client = client_for(fake)
    snapshot = client.fetch(REQUEST)
    assert secret_free(snapshot) and secret_free(client) and API_KEY not in repr(vars(client))
    assert all(API_KEY not in record.getMessage() for record in caplog.records)
    assert any("retrying" in record.getMessage() for record in caplog.records)


def test_the_entry_before_the_logs_settles_an_outage_that_began_earlier():
    # an outage began before the fetched logs; its error changed inside them, so the first fetched entry is
    # a second "down": only the entry before tells that the monitor was already down
    start = REQUEST.logs_start
    monitor = acme_shop(start - 30 * 86_400, [(1, start - 3600), (1, start + 3600), (2, start + 7200)])
    with FakeUptimeRobot(DataSet([monitor], [], NOW_S), API_KEY) as fake:
        snapshot = client_for(fake).fetch(REQUEST)
        lookups = [r for r in fake.requests if r.params.get("monitors") == "42"]
    assert len(lookups) == 1 and lookups[0].params["logs_limit"] == "1"
    assert lookups[0].params["logs_end_date"] == str(start - 1)
    fetched = snapshot.monitors[0]
    assert [e.id for e in sorted(fetched.entries)] == [2, 3, 4]
    counted = counted_intervals(
        MonitorInput(fetched.created_at, fetched.status, fetched.entries), start, start + 86_400
    )
    assert figures(counted, start, start + 86_400).downtime_seconds == 7200


def test_a_monitor_list_that_changes_between_pages_fails_the_fetch():
    tenants = [
        {"slug": f"tenant-{i:03d}", "plan": "pro", "sites": [f"site-{i:03d}.example.com"]} for i in range(60)
    ]
    dataset = generate_dataset(tenants, seed=5, now=NOW_S)

    class Deleting(FakeUptimeRobot):
        def _get_monitors(self, params):
            answer = super()._get_monitors(params)
            if params.get("offset") == "0" and "monitors" not in params:
                self.dataset.monitors.pop(3)  # a monitor is deleted while the client reads page one
            return answer

    with Deleting(dataset, API_KEY) as fake:
        with pytest.raises(UptimeRobotBadResponse, match="the list changed during the fetch \\(62 then 61"):
            client_for(fake).fetch(REQUEST)
