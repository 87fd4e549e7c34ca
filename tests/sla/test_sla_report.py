"""The SLA report: from the fake UptimeRobot, and from hand-made snapshots with figures computed by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from reliability.sla.config import parse_config
from reliability.sla.maintenance import MaintenanceWindow, WindowType
from reliability.sla.mapping import mapping_from_config
from reliability.sla.period import Period
from reliability.sla.report import SnapshotInconsistent, compute_sla_report, metrics
from reliability.sla.source import Snapshot, SourceMonitor
from reliability.sla.timeline import LogEntry
from reliability.sla.uptimerobot import (
    UptimeRobotApiError,
    UptimeRobotBadResponse,
    UptimeRobotClient,
    UptimeRobotError,
)
from tests.sla.support import API_KEY, NOW, StaticSource, secret_free

H = 3600
DAY = 86_400
NOV = Period.month(2026, 11)
S = int(NOV.start.timestamp())


def client(fake) -> UptimeRobotClient:
    return UptimeRobotClient(fake.url, API_KEY, attempts=2, backoff_initial=0.01, sleep=lambda s: None)


@pytest.fixture
def this_month(fake, mapping, config):
    period = Period.containing(NOW)
    return compute_sla_report(client(fake), mapping, config, period.start, period.end, NOW)


@pytest.fixture
def last_month(fake, mapping, config):
    period = Period.before(NOW)
    return compute_sla_report(client(fake), mapping, config, period.start, period.end, NOW)


def test_this_month_is_provisional_up_to_now_and_flags_the_breaching_tenant(this_month, dataset):
    assert (this_month.period, this_month.kind, this_month.as_of) == ("2026-11", "provisional", NOW)
    acme = next(t for t in this_month.tenants if t.tenant == dataset.facts["breaching_tenant"])
    assert acme.breach is True and acme.projected_breach is True
    assert acme.target == 0.999 and acme.uptime_ratio < 0.999
    assert acme.budget_remaining_ratio < 0
    assert this_month.summary()["breaches"] == sorted(t.tenant for t in this_month.tenants if t.breach)


def test_last_month_is_final_and_flags_the_breaching_tenant(last_month, dataset):
    assert (last_month.period, last_month.kind) == ("2026-10", "final")
    assert last_month.as_of == datetime(2026, 11, 1, tzinfo=UTC)
    acme = next(t for t in last_month.tenants if t.tenant == dataset.facts["breaching_tenant"])
    assert acme.breach is True and acme.uptime_ratio < acme.target


def test_every_final_breach_is_exactly_an_uptime_below_target(last_month):
    for row in last_month.tenants + last_month.monitors:
        if row.uptime_ratio is not None and row.target is not None:
            assert row.breach == (row.uptime_ratio < row.target)


def test_ongoing_incident_counts_until_now(this_month, dataset):
    row = next(m for m in this_month.monitors if m.monitor_id == dataset.facts["ongoing_monitor_id"])
    ongoing = int(NOW.timestamp()) - dataset.facts["ongoing_since"]
    assert row.downtime_seconds >= ongoing
    assert row.longest_incident_seconds >= ongoing
    assert row.burn_rate_1d >= (ongoing / DAY) / (1 - row.target) * 0.99


def test_unmapped_monitors_are_listed_with_a_reason_and_count_for_no_tenant(this_month, dataset):
    unmapped = [m for m in this_month.monitors if m.tenant is None]
    assert sorted(m.monitor_id for m in unmapped) == sorted(dataset.facts["unmapped_monitor_ids"])
    assert all(m.unmapped_reason and m.target is None and m.breach is None for m in unmapped)
    assert sum(t.monitors for t in this_month.tenants) == len(this_month.monitors) - len(unmapped)


def test_tenant_without_monitors_has_no_data(this_month):
    vandelay = next(t for t in this_month.tenants if t.tenant == "vandelay")
    assert (vandelay.monitors, vandelay.uptime_ratio, vandelay.breach, vandelay.monitored_seconds) == (
        0,
        None,
        None,
        0,
    )


def test_monitor_created_this_month_counts_from_its_creation(this_month, dataset):
    ident = dataset.facts["created_this_month_monitor_id"]
    created = next(m.create_datetime for m in dataset.monitors if m.id == ident)
    row = next(m for m in this_month.monitors if m.monitor_id == ident)
    assert 0 < row.monitored_seconds <= int(NOW.timestamp()) - created


def test_outage_in_maintenance_is_left_out_and_the_cross_check_notes_it(this_month, dataset):
    row = next(
        m for m in this_month.monitors if m.monitor_id == dataset.facts["maintenance_outage_monitor_id"]
    )
    assert row.cross_check_note and "UptimeRobot reports" in row.cross_check_note
    assert row.uptime_ratio > row.cross_check_ratio
    tenant = next(t for t in this_month.tenants if t.tenant == row.tenant)
    assert tenant.cross_check_note and "differ from UptimeRobot" in tenant.cross_check_note


@pytest.mark.parametrize(
    "failing_request, fault",
    [(n, fault) for fault in ("server_error", "malformed") for n in (0, 1, 2)] + [(0, "stat_fail")],
)
def test_any_failed_request_raises_and_no_report_is_built(fake, mapping, config, failing_request, fault):
    # requests: 0 the monitors page, 1 the look-back entries, 2 the maintenance windows
    fake.answer_normally_next(failing_request)
    if fault == "server_error":
        fake.fail_next(5, 503)
    elif fault == "malformed":
        fake.malformed_next(1)
    period = Period.containing(NOW)
    source = client(fake) if fault != "stat_fail" else UptimeRobotClient(fake.url, "u0-" + API_KEY[::-1])
    with pytest.raises(UptimeRobotError) as caught:
        compute_sla_report(source, mapping, config, period.start, period.end, NOW)
    expected = {"server_error": "HTTP 503", "malformed": "not JSON", "stat_fail": "api_key"}[fault]
    assert expected in str(caught.value)
    assert isinstance(
        caught.value,
        {
            "server_error": UptimeRobotError,
            "malformed": UptimeRobotBadResponse,
            "stat_fail": UptimeRobotApiError,
        }[fault],
    )
    assert secret_free(caught.value)
    failed = fake.requests[failing_request]
    assert (failed.endpoint, "monitors" in failed.params) == [
        ("getMonitors", False),
        ("getMonitors", True),
        ("getMWindows", False),
    ][failing_request]


# --- hand-made snapshots ------------------------------------------------------------------------------------


def monitor(
    ident: int,
    name: str,
    entries: list[LogEntry],
    created: int = S - 60 * DAY,
    status: int = 2,
    windows: tuple[int, ...] = (),
    provider: float | None = None,
) -> SourceMonitor:
    return SourceMonitor(
        ident,
        name,
        "https://" + name.split("/")[-1],
        created,
        status,
        (LogEntry(created, 98, 0),) + tuple(entries),
        windows,
        provider,
    )


def hand_config(**extra):
    return parse_config(
        {
            "plans": {"free": 0.95, "pro": 0.99, "enterprise": 0.999},
            "mapping": {"tenants": {"acme": "enterprise", "globex": "pro"}},
            **extra,
        }
    )


def test_hand_computed_tenant_report(config):
    # 10 days into November; acme's shop is down 10:00-11:00 and its blog 10:30-12:00 on Nov 2:
    # acme was down 2 h (once), against an enterprise budget of 0.1% of 30 days = 2,592 s
    now = NOV.start + timedelta(days=10)
    shop = monitor(
        1,
        "acme/shop.example.com",
        [LogEntry(S + DAY + 10 * H, 1, 1), LogEntry(S + DAY + 11 * H, 2, 2)],
        provider=0.9,
    )
    blog = monitor(
        2,
        "acme/blog.example.com",
        [LogEntry(S + DAY + 10 * H + 1800, 1, 3), LogEntry(S + DAY + 12 * H, 2, 4)],
    )
    cfg = hand_config()
    source = StaticSource(Snapshot("static", (shop, blog)))
    report = compute_sla_report(source, mapping_from_config(cfg), cfg, NOV.start, NOV.end, now)
    acme = next(t for t in report.tenants if t.tenant == "acme")
    assert (acme.monitored_seconds, acme.downtime_seconds, acme.incidents, acme.longest_incident_seconds) == (
        10 * DAY,
        2 * H,
        1,
        2 * H,
    )
    assert acme.uptime_ratio == pytest.approx(1 - 7200 / 864_000)
    assert acme.budget_allowed_seconds == pytest.approx(2592)
    assert acme.budget_remaining_ratio == pytest.approx(1 - 7200 / 2592)
    assert acme.burn_rate_period == pytest.approx((7200 / 864_000) / 0.001)
    assert (acme.burn_rate_1d, acme.burn_rate_7d) == (0.0, 0.0)
    assert (acme.breach, acme.projected_breach, acme.monitors) == (True, True, 2)
    shop_row = next(m for m in report.monitors if m.monitor_id == 1)
    assert shop_row.downtime_seconds == H and shop_row.cross_check_ratio == 0.9
    assert "UptimeRobot reports 90.000%" in shop_row.cross_check_note
    globex = next(t for t in report.tenants if t.tenant == "globex")
    assert globex.uptime_ratio is None and globex.monitors == 0
    # logs from the look-back before the earliest window (the period start here) up to now
    assert source.requests[0].logs_start == S - cfg.lookback_days * DAY
    assert source.requests[0].uptime_range == (S, S + 10 * DAY)


def test_burn_windows_reach_into_the_previous_month(config):
    # 2 days into November, a 1-hour outage on Oct 30 is in the 7-day window but not in the period
    now = NOV.start + timedelta(days=2)
    shop = monitor(
        1, "globex/shop.example.com", [LogEntry(S - 2 * DAY, 1, 1), LogEntry(S - 2 * DAY + H, 2, 2)]
    )
    cfg = hand_config()
    report = compute_sla_report(
        StaticSource(Snapshot("static", (shop,))), mapping_from_config(cfg), cfg, NOV.start, NOV.end, now
    )
    row = report.tenants[[t.tenant for t in report.tenants].index("globex")]
    assert row.downtime_seconds == 0 and row.burn_rate_period == 0.0
    assert row.burn_rate_7d == pytest.approx((H / (7 * DAY)) / 0.01)


def test_maintenance_policy_from_config_applies_to_the_report():
    window = MaintenanceWindow(9, WindowType.DAILY, 2 * H, start_minute=10 * 60)
    shop = monitor(
        1,
        "acme/shop.example.com",
        [LogEntry(S + DAY + 10 * H, 1, 1), LogEntry(S + DAY + 11 * H, 2, 2)],
        windows=(9,),
    )
    now = NOV.start + timedelta(days=10)
    results = {}
    for policy in ("exclude", "count_as_up"):
        cfg = hand_config(maintenance={"policy": policy})
        report = compute_sla_report(
            StaticSource(Snapshot("static", (shop,), {9: window})),
            mapping_from_config(cfg),
            cfg,
            NOV.start,
            NOV.end,
            now,
        )
        results[policy] = report.monitors[0]
    assert results["exclude"].downtime_seconds == 0
    assert results["exclude"].monitored_seconds == 10 * DAY - 10 * 2 * H
    assert results["count_as_up"].downtime_seconds == 0
    assert results["count_as_up"].monitored_seconds == 10 * DAY


def test_same_snapshot_same_report():
    cfg = hand_config()
    shop = monitor(1, "acme/shop.example.com", [LogEntry(S + DAY, 1, 1)], status=9)
    source = StaticSource(Snapshot("static", (shop,)))
    now = NOV.start + timedelta(days=3)
    first = compute_sla_report(source, mapping_from_config(cfg), cfg, NOV.start, NOV.end, now)
    again = compute_sla_report(source, mapping_from_config(cfg), cfg, NOV.start, NOV.end, now)
    assert first == again
    assert first.monitors[0].downtime_seconds == 2 * DAY  # still down at "now"


def test_monitor_naming_a_window_the_source_did_not_list_is_an_error():
    cfg = hand_config()
    shop = monitor(1, "acme/shop.example.com", [], windows=(77,))
    with pytest.raises(SnapshotInconsistent, match="window\\(s\\) \\[77\\]"):
        compute_sla_report(
            StaticSource(Snapshot("static", (shop,))),
            mapping_from_config(cfg),
            cfg,
            NOV.start,
            NOV.end,
            NOV.start + timedelta(days=1),
        )


def test_a_period_that_has_not_started_is_refused():
    cfg = hand_config()
    with pytest.raises(ValueError, match="has not started"):
        compute_sla_report(
            StaticSource(Snapshot("static", ())),
            mapping_from_config(cfg),
            cfg,
            NOV.start,
            NOV.end,
            NOV.start - timedelta(hours=1),
        )


def test_metrics_follow_the_contract(this_month):
    found = metrics(this_month)
    assert {m.name for m in found} == {
        "sla_uptime_ratio",
        "sla_target_ratio",
        "sla_error_budget_remaining_ratio",
        "sla_breach",
        "sla_error_budget_burn_rate",
    }
    for metric in found:
        expected = {"tenant", "plan", "period"} | (
            {"window"} if metric.name == "sla_error_budget_burn_rate" else set()
        )
        assert set(metric.labels) == expected and metric.labels["period"] == "2026-11"
    assert {m.labels["window"] for m in found if m.name == "sla_error_budget_burn_rate"} == {
        "1d",
        "7d",
        "period",
    }
    assert {m.value for m in found if m.name == "sla_breach"} <= {0.0, 1.0}
    # "no data" pushes no uptime at all rather than a 0 or a 1
    assert not [m for m in found if m.labels["tenant"] == "vandelay" and m.name == "sla_uptime_ratio"]


def test_summary_is_small_json_and_free_of_secrets(this_month):
    summary = this_month.summary()
    text = json.dumps(summary)
    assert API_KEY not in text and len(text) < 2000
    assert summary["monitors"] == len(this_month.monitors) and summary["api_requests"] == this_month.requests


def test_a_report_of_the_past_ignores_what_happened_after_its_now(config):
    # the site went down (and still is) a day after the report's "now", with nothing logged for weeks
    # before: today's status "down" must not be taken for the whole period
    from stack.fake_uptimerobot import DataSet, FakeLog, FakeMonitor, FakeUptimeRobot

    now = NOV.start + timedelta(days=10)
    shop = FakeMonitor(5, "acme/shop.example.com", "https://shop.example.com", S - 90 * DAY)
    shop.logs = [
        FakeLog(1, 98, shop.create_datetime, ("98", "Started")),
        FakeLog(2, 1, S + 11 * DAY, ("500", "Internal Server Error")),
    ]
    shop.seal()
    cfg = hand_config()
    with FakeUptimeRobot(DataSet([shop], [], int(NOW.timestamp())), API_KEY) as fake:
        report = compute_sla_report(client(fake), mapping_from_config(cfg), cfg, NOV.start, NOV.end, now)
    row = report.monitors[0]
    assert (row.monitored_seconds, row.downtime_seconds) == (10 * DAY, 0)
