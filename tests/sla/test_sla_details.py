"""Tenant details from stored logs (migration 008): incidents, exclusions, day bars, burn and credits of the
hand-computed month in ``details_scenario``, and agreement with the report computed from the same logs."""

from __future__ import annotations

from datetime import date

import pytest

from reliability.core.store import connect
from reliability.sla.config import load_config
from reliability.sla.daybars import day_bars, tenant_counted
from reliability.sla.details import (
    SnapshotRecorder,
    period_credits,
    period_details,
    save_details,
    tenant_months,
    tenant_timelines,
)
from reliability.sla.incidents import (
    NOTE_EARLIER,
    RULE_BEFORE_CREATION,
    RULE_MAINTENANCE,
    RULE_PAUSED,
    counted_down,
    left_out,
    tenant_incidents,
)
from reliability.sla.intervals import total
from reliability.sla.mapping import mapping_from_config
from reliability.sla.period import epoch
from reliability.sla.report import compute_sla_report
from reliability.sla.store import save_report
from reliability.sla.uptime import MaintenancePolicy
from tests.sla.details_scenario import END, PERIOD, START, TENANT_PLANS, at, snapshot
from tests.sla.support import StaticSource

ACME_DOWN = 3_600 + 1_800 + 2_700 + 5_400 + 10_800 + 21_600  # see details_scenario
ACME_MONITORED = 31 * 86_400 - 1_800  # the maintenance half hour leaves (no other monitor covers it)


@pytest.fixture
def stored(results_dsn):
    """March 2026 final, computed from the scenario's logs, saved with its details."""
    config = load_config()
    recorder = SnapshotRecorder(StaticSource(snapshot()))
    report = compute_sla_report(recorder, mapping_from_config(config, TENANT_PLANS), config, START, END, END)
    with connect(results_dsn) as conn:
        save_report(conn, report, "2026-03-31/2026-04-01")
        gauges = save_details(conn, report, recorder, config)
    return results_dsn, report, gauges


def _acme(dsn):
    with connect(dsn) as conn:
        return tenant_timelines(conn, PERIOD, "acme")


def test_incidents_are_cut_and_marked_by_the_rules(stored):
    dsn, _, _ = stored
    found = [
        (i.monitor_id, i.start, i.end, i.counted, i.rule)
        for i in tenant_incidents(_acme(dsn), epoch(START), epoch(END))
    ]
    assert found == [
        (101, at(3, 1), at(3, 1, 1), True, None),  # began in February: counted from 00:00 on the 1st
        (102, at(3, 1), at(3, 15), False, RULE_BEFORE_CREATION),
        (101, at(3, 3, 23, 30), at(3, 4, 0, 45), True, None),  # one incident across midnight
        (101, at(3, 10, 10), at(3, 10, 10, 30), True, None),
        (101, at(3, 10, 10, 30), at(3, 10, 11), False, RULE_MAINTENANCE),
        (101, at(3, 10, 11), at(3, 10, 12), True, None),  # the window cut the outage in two
        (102, at(3, 15), at(3, 15, 6), True, None),  # counted from the monitor's creation
        (101, at(3, 29, 0, 30), at(3, 29, 3, 30), True, None),
    ]


def test_incidents_carry_uptimerobots_reason_and_the_february_note(stored):
    dsn, _, _ = stored
    incidents = tenant_incidents(_acme(dsn), epoch(START), epoch(END))
    assert incidents[0].note == NOTE_EARLIER
    midnight = next(i for i in incidents if i.start == at(3, 3, 23, 30))
    assert (midnight.reason.code, midnight.reason.detail) == ("333333", "Connection Timeout")
    assert midnight.duration_seconds == 75 * 60
    cut = [i for i in incidents if i.start in (at(3, 10, 10), at(3, 10, 11))]
    assert {i.reason.detail for i in cut} == {"Service Unavailable"}


def test_pauses_and_maintenance_are_listed_as_time_left_out(stored):
    dsn, _, _ = stored
    spans = [(x.monitors, x.start, x.end, x.rule) for x in left_out(_acme(dsn), epoch(START), epoch(END))]
    assert spans == [
        (("acme/shop",), at(3, 10, 10, 30), at(3, 10, 11), RULE_MAINTENANCE),
        (("acme/blog",), at(3, 20, 12), at(3, 21, 12), RULE_PAUSED),
    ]


def test_counted_incidents_are_the_reports_downtime(stored):
    dsn, report, _ = stored
    acme = next(t for t in report.tenants if t.tenant == "acme")
    incidents = tenant_incidents(_acme(dsn), epoch(START), epoch(END))
    assert total(counted_down(incidents)) == acme.downtime_seconds == ACME_DOWN
    assert sum(1 for i in incidents if i.counted) == 6
    assert acme.monitored_seconds == ACME_MONITORED
    for monitor in report.monitors:
        if monitor.tenant == "acme":
            own = [i for i in incidents if i.monitor_id == monitor.monitor_id and i.counted]
            assert sum(i.duration_seconds for i in own) == monitor.downtime_seconds
            assert len(own) == monitor.incidents


def test_day_bars_split_at_utc_midnight_and_follow_the_plan_budget(stored):
    dsn, report, _ = stored
    _, counted = tenant_counted(_acme(dsn), epoch(START), epoch(END), MaintenancePolicy.EXCLUDE)
    bars = day_bars(counted, epoch(START), epoch(END), epoch(END), 0.999)
    assert len(bars) == 31 and bars[0].day == date(2026, 3, 1) and bars[-1].day == date(2026, 3, 31)
    down = {b.day.day: b.down_seconds for b in bars if b.down_seconds}
    assert down == {1: 3_600, 3: 1_800, 4: 2_700, 10: 5_400, 15: 21_600, 29: 10_800}
    assert bars[9].monitored_seconds == 86_400 - 1_800
    assert {b.monitored_seconds for i, b in enumerate(bars) if i != 9} == {86_400}  # no 23-hour day
    assert {b.level for b in bars if b.down_seconds} == {"major"}  # each above the day's 86.4 s
    assert {b.level for b in bars if not b.down_seconds} == {"up"}
    # end of the 1st: 3600 s used of 0.1% x (1 day monitored + 30 days to come) = 2678.4 s
    assert bars[0].budget_remaining_ratio == pytest.approx(1 - 3_600 / 2_678.4)
    acme = next(t for t in report.tenants if t.tenant == "acme")
    assert bars[-1].budget_remaining_ratio == pytest.approx(acme.budget_remaining_ratio)


def test_provisional_day_bars_leave_the_rest_of_the_month_future(stored):
    dsn, _, _ = stored
    until = at(3, 10, 12)
    _, counted = tenant_counted(_acme(dsn), epoch(START), until, MaintenancePolicy.EXCLUDE)
    bars = day_bars(counted, epoch(START), epoch(END), until, 0.999)
    assert [b.level for b in bars[9:12]] == ["major", "future", "future"]
    assert bars[9].monitored_seconds == 12 * 3_600 - 1_800
    assert bars[10].budget_remaining_ratio is None


def test_credit_and_history_are_stored_with_the_report(stored):
    dsn, report, gauges = stored
    with connect(dsn) as conn:
        details = period_details(conn, PERIOD)
        credits = {c.tenant: c for c in period_credits(conn, PERIOD)}
        months = tenant_months(conn, "acme", PERIOD)
    assert details.maintenance_policy == "exclude" and details.as_of == END
    # acme: 1 - 45900 / 2676600 = 98.29%, below the enterprise tiers of 99.9% and 99%: 25%
    assert credits["acme"].uptime_ratio == pytest.approx(1 - ACME_DOWN / ACME_MONITORED)
    assert (credits["acme"].below_ratio, credits["acme"].credit_ratio) == (0.99, 0.25)
    assert credits["globex"].credit_ratio == 0.0
    assert {g.labels["tenant"]: g.value for g in gauges} == {"acme": 0.25, "globex": 0.0}
    assert [(m.period, m.credit_ratio, m.breach) for m in months] == [(PERIOD, 0.25, True)]


def test_details_of_a_report_that_was_not_kept_are_not_stored(stored):
    dsn, _, _ = stored
    config = load_config()
    recorder = SnapshotRecorder(StaticSource(snapshot()))
    earlier = compute_sla_report(
        recorder, mapping_from_config(config, TENANT_PLANS), config, START, END, START.replace(day=20)
    )
    with connect(dsn) as conn:
        assert not save_report(conn, earlier, "2026-03-19/2026-03-20").replaced_current
        save_details(conn, earlier, recorder, config)
        assert period_details(conn, PERIOD).as_of == END  # the final report's details stay


def test_a_long_statement_lists_the_longest_counted_incidents_and_points_to_the_csv(stored):
    from reliability.sla.statement import build_statement, read_statement

    dsn, _, _ = stored
    with connect(dsn) as conn:
        statement = build_statement(read_statement(conn, PERIOD, "acme"))
    assert statement.statement_incidents() == (statement.incidents, 0)  # 8 rows: all of them
    shown, more = statement.statement_incidents(limit=3)
    # 6 h (15th), 3 h (29th), 75 min (across midnight on the 3rd): longer than the two 1 h ones
    assert [(i.start, i.duration_seconds) for i in shown] == [
        (at(3, 3, 23, 30), 4_500),
        (at(3, 15), 21_600),
        (at(3, 29, 0, 30), 10_800),
    ]
    assert more == 5


def test_each_day_differing_from_uptimerobot_is_explained_or_flagged(stored):
    from reliability.sla.reconcile import CREATED, MAINTENANCE, PAUSED, UNEXPLAINED
    from reliability.sla.statement import build_statement, read_statement

    dsn, _, _ = stored
    with connect(dsn) as conn:
        statement = build_statement(read_statement(conn, PERIOD, "acme"))
    r = statement.reconciliation
    assert r.compared == 6  # the 3rd and the 25th agree
    found = [(d.monitor_id, d.day.day, d.cause) for d in r.differences]
    assert found == [
        (101, 5, UNEXPLAINED),  # ours 100 %, theirs 99 %: no log tells why
        (101, 10, MAINTENANCE),
        (102, 15, CREATED),  # ours 75 % (down until 06:00), theirs 100 %
        (102, 20, PAUSED),
    ]
    assert r.unexplained == 1
    maintenance = r.differences[1]
    assert maintenance.ours == pytest.approx(1 - 5_400 / (86_400 - 1_800))
    assert maintenance.difference == pytest.approx(maintenance.ours - (1 - 7_200 / 86_400))
