"""What the tenant pages need from UptimeRobot, fetched by the SLA run through API v2 and v3 from the fake
and stored with the report: the reason (code, detail) of each "down" entry and UptimeRobot's own uptime
per monitor and UTC day, in the same requests as before."""

from __future__ import annotations

import math

import psycopg
import pytest

from reliability.sla.run import run
from reliability.sla.uptimerobot_settings import UptimeRobotSettings
from stack.fake_uptimerobot import provider_uptime
from tests.sla.support import API_KEY, NOW, TOKEN
from tests.sla.test_sla_v3 import CONFIG

DAY = 86_400
NOW_S = int(NOW.timestamp())
PERIOD = f"{NOW:%Y-%m}"
MONTH_START = int(NOW.replace(day=1, hour=0).timestamp())
DAYS = list(range(MONTH_START, NOW_S, DAY))  # Nov 1 .. Nov 16 (six hours of it)


@pytest.fixture
def fake_v3(fake):
    fake.v3_token = TOKEN
    yield fake
    fake.v3_token = API_KEY


def settings(fake, version: int) -> UptimeRobotSettings:
    if version == 2:
        return UptimeRobotSettings(fake.url, API_KEY)
    return UptimeRobotSettings(fake.url_v3, TOKEN, api_version=3, v2_api_key=API_KEY)


def run_on(fake, results_dsn: str, version: int) -> tuple[dict, dict]:
    """Run the SLA job through API ``version``; the stored down entries' reasons and the daily figures."""
    run(
        uptimerobot=settings(fake, version),
        results_dsn=results_dsn,
        interval_end=NOW,
        interval_key=f"{NOW:%Y-%m-%d}",
        config=CONFIG,
    )
    with psycopg.connect(results_dsn) as conn:
        logs = conn.execute(
            "SELECT monitor_id, at, type, reason_code, reason_detail FROM reliability.sla_monitor_logs "
            "WHERE period = %s",
            (PERIOD,),
        ).fetchall()
        days = conn.execute(
            "SELECT monitor_id, day, uptime_ratio FROM reliability.sla_monitor_provider_days WHERE period = %s",
            (PERIOD,),
        ).fetchall()
    reasons = {(m, int(at.timestamp()), kind): (code, detail) for m, at, kind, code, detail in logs}
    figures = {(m, _epoch(day)): ratio for m, day, ratio in days}
    return reasons, figures


def _epoch(day) -> int:
    return (day.toordinal() - 719_163) * DAY  # days since 1970-01-01, in seconds


def expected_days(dataset) -> dict[tuple[int, int], float]:
    """The fake's own figure per monitor and day (3 decimals of a percent), from the monitor's first day."""
    return {
        (m.id, day): float(f"{provider_uptime(m, day, min(day + DAY, NOW_S), NOW_S):.3f}") / 100
        for m in dataset.monitors
        if m.create_datetime <= NOW_S
        for day in DAYS
        if day + DAY > m.create_datetime
    }


def down_reasons(dataset) -> dict[tuple[int, int], tuple[str, str]]:
    return {(m.id, log.datetime): log.reason for m in dataset.monitors for log in m.logs if log.type == 1}


@pytest.mark.parametrize("version", [2, 3])
def test_every_stored_down_entry_carries_uptimerobots_reason(fake_v3, dataset, results_dsn, version):
    reasons, _ = run_on(fake_v3, results_dsn, version)
    truth = down_reasons(dataset)
    down = {(m, at): reason for (m, at, kind), reason in reasons.items() if kind == 1}
    assert len(down) >= 10
    assert down == {key: truth[key] for key in down}  # each one the fake's code and detail of that entry
    assert all(reason == (None, None) for (_, _, kind), reason in reasons.items() if kind != 1)
    # the ongoing incident and the breaching outage are among them
    ongoing = (dataset.facts["ongoing_monitor_id"], dataset.facts["ongoing_since"])
    assert down[ongoing] == truth[ongoing] and truth[ongoing][0].isdigit()


def test_v2_keeps_the_reason_of_every_down_entry_and_v3_of_every_incident(fake_v3, dataset, results_dsn):
    v2, _ = run_on(fake_v3, results_dsn, 2)
    v3, _ = run_on(fake_v3, results_dsn, 3)
    v2_down = {(m, at) for m, at, kind in v2 if kind == 1}
    v3_down = {(m, at) for m, at, kind in v3 if kind == 1}
    # an outage whose error changed has two "down" entries in v2's log, one incident in v3
    assert v3_down < v2_down


@pytest.mark.parametrize("version", [2, 3])
def test_uptimerobots_figure_of_every_monitor_and_day_is_stored(fake_v3, dataset, results_dsn, version):
    _, figures = run_on(fake_v3, results_dsn, version)
    expected = expected_days(dataset)
    assert figures.keys() == expected.keys()
    assert all(figures[key] == pytest.approx(ratio, abs=1e-9) for key, ratio in expected.items())
    # a monitor created this month has no figure for the days before
    created = next(m for m in dataset.monitors if m.id == dataset.facts["created_this_month_monitor_id"])
    first = min(day for m, day in figures if m == created.id)
    assert first > MONTH_START and first == created.create_datetime - created.create_datetime % DAY
    assert any(ratio < 1 for (m, _), ratio in figures.items() if m == dataset.facts["breaching_monitor_id"])


def test_the_daily_figures_come_in_the_same_requests(fake, dataset, results_dsn):
    run_on(fake, results_dsn, 2)
    listing = [r for r in fake.requests if r.endpoint == "getMonitors" and "monitors" not in r.params]
    assert len(listing) == math.ceil(len(dataset.monitors) / 50)
    lookback = [r for r in fake.requests if r.endpoint == "getMonitors" and "monitors" in r.params]
    assert len(lookback) <= len(listing) and fake.count("getMWindows") == 1
    assert fake.request_count == len(listing) + len(lookback) + 1
    ranges = listing[0].params["custom_uptime_ranges"].split("-")
    assert ranges == [f"{MONTH_START}_{NOW_S}"] + [f"{d}_{min(d + DAY, NOW_S)}" for d in DAYS]
    assert all("custom_uptime_ranges" not in r.params for r in lookback)


def test_answers_the_clients_cannot_match_to_the_request_fail_and_missing_reasons_are_none(fake):
    from reliability.sla.uptimerobot import UptimeRobotBadResponse, UptimeRobotClient
    from reliability.sla.uptimerobot_v3 import _reason_of

    client = UptimeRobotClient(fake.url, API_KEY)
    item = {"id": 7, "create_datetime": MONTH_START - DAY, "status": 2}
    read = client._monitor({**item, "custom_uptime_ranges": "99.500-100.000-99.000"}, DAYS[:2])
    assert (read.provider_uptime_ratio, read.provider_daily_uptime) == (
        0.995,
        {DAYS[0]: 1.0, DAYS[1]: 0.99},
    )
    with pytest.raises(UptimeRobotBadResponse, match="custom_uptime_ranges has 2 figures, not 3"):
        client._monitor({**item, "custom_uptime_ranges": "99.500-100.000"}, DAYS[:2])
    logs = [
        {"id": 1, "type": 1, "datetime": DAYS[0], "reason": {"code": "", "detail": ""}},
        {"id": 2, "type": 1, "datetime": DAYS[1]},
        {"id": 3, "type": 2, "datetime": DAYS[2], "reason": {"code": "200", "detail": "OK"}},
    ]
    assert client._monitor({**item, "logs": logs}).log_reasons == {DAYS[0]: (None, None)}
    assert _reason_of({"cause": None, "reason": "Keyword not found"}) == (None, "Keyword not found")
    assert _reason_of({"cause": 333333.0, "reason": ""}) == ("333333", None)
