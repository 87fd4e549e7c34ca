"""One test per rule of include/reliability/sla/RULES.md, with figures computed by hand."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from reliability.sla.period import Period, epoch
from reliability.sla.timeline import LogEntry, State, segments
from reliability.sla.uptime import (
    CountedIntervals,
    MaintenancePolicy,
    MonitorInput,
    combine,
    counted_intervals,
    figures,
)

H = 3600
DAY = 86_400
NOV = Period.month(2026, 11)
S = epoch(NOV.start)  # 2026-11-01 00:00 UTC
LONG_AGO = S - 60 * DAY


def down(at: int, until: int | None = None, ident: int = 0) -> list[LogEntry]:
    entries = [LogEntry(at, 1, ident)]
    if until is not None:
        entries.append(LogEntry(until, 2, ident + 1))
    return entries


def measure(
    entries,
    start=S,
    end=S + 10 * DAY,
    created=LONG_AGO,
    status=2,
    maintenance=(),
    policy=MaintenancePolicy.EXCLUDE,
    started=True,
):
    """Figures of one monitor; ``started`` adds the "started" entry UptimeRobot logs at creation."""
    entries = ([LogEntry(created, 98, -1)] if started else []) + list(entries)
    counted = counted_intervals(MonitorInput(created, status, entries, list(maintenance)), start, end, policy)
    return figures(counted, start, end)


# --- periods ---------------------------------------------------------------------------------------------


def test_period_is_a_utc_calendar_month():
    assert NOV.key == "2026-11"
    assert NOV.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert NOV.end == datetime(2026, 12, 1, tzinfo=UTC)
    assert Period.parse("2026-12").end == datetime(2027, 1, 1, tzinfo=UTC)
    assert Period.containing(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == NOV


def test_month_is_provisional_until_it_ends_then_final():
    assert NOV.kind(datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)) == "provisional"
    assert NOV.kind(datetime(2026, 12, 1, tzinfo=UTC)) == "final"
    assert Period.before(datetime(2026, 12, 1, tzinfo=UTC)) == NOV
    assert Period.before(datetime(2027, 1, 9, tzinfo=UTC)).key == "2026-12"


def test_a_run_reports_on_the_month_of_the_last_second_of_its_interval():
    daily_mid_month = Period.reported_by_run_ending(datetime(2026, 11, 16, tzinfo=UTC))
    daily_last_of_month = Period.reported_by_run_ending(datetime(2026, 12, 1, tzinfo=UTC))
    assert daily_mid_month == daily_last_of_month == NOV
    assert NOV.kind(datetime(2026, 12, 1, tzinfo=UTC)) == "final"


def test_period_rejects_malformed_keys_and_naive_times():
    with pytest.raises(ValueError, match="2026-11"):
        Period.parse("2026-13")
    with pytest.raises(ValueError, match="time zone"):
        Period.containing(datetime(2026, 11, 3))


def test_incident_crossing_the_period_start_counts_only_its_part_inside():
    # down from 22:00 on Oct 31 to 03:00 on Nov 1: 3 hours of it are in November
    result = measure(down(S - 2 * H, S + 3 * H))
    assert result.downtime_seconds == 3 * H
    assert result.incidents == 1
    assert result.longest_incident_seconds == 3 * H
    assert result.monitored_seconds == 10 * DAY


# --- state timeline --------------------------------------------------------------------------------------


def test_each_entry_lasts_until_the_next_whatever_duration_the_api_reported():
    entries = [LogEntry(S + H, 1, 1, duration=5), LogEntry(S + 3 * H, 2, 2, duration=99 * DAY)]
    assert measure(entries).downtime_seconds == 2 * H


def test_entries_in_any_order_give_the_same_figures():
    entries = (
        down(S + H, S + 2 * H, 1)
        + down(S + DAY, S + DAY + 30 * 60, 3)
        + [LogEntry(S + 2 * DAY, 99, 5), LogEntry(S + 3 * DAY, 98, 6)]
    )
    shuffled = entries[:]
    random.Random(4).shuffle(shuffled)
    assert measure(shuffled) == measure(entries) == measure(list(reversed(entries)))
    assert measure(entries).downtime_seconds == H + 30 * 60


def test_duplicate_entries_are_merged():
    entries = down(S + H, S + 2 * H)
    assert measure(entries + entries) == measure(entries)


def test_a_down_entry_after_a_down_entry_continues_the_same_incident():
    # UptimeRobot logs a second "down" when the error changes (timeout, then HTTP 500)
    entries = [LogEntry(S + H, 1, 1), LogEntry(S + 2 * H, 1, 2), LogEntry(S + 4 * H, 2, 3)]
    result = measure(entries)
    assert (result.downtime_seconds, result.incidents, result.longest_incident_seconds) == (3 * H, 1, 3 * H)


def test_overlapping_entries_in_the_same_second_leave_the_more_conservative_state():
    # no log ids: at the same second, "down" wins over "up"
    entries = [LogEntry(S + H, 2), LogEntry(S + H, 1), LogEntry(S + 2 * H, 2)]
    assert measure(entries).downtime_seconds == H
    # with log ids, the later id wins whatever the type
    entries = [LogEntry(S + H, 1, 8), LogEntry(S + H, 2, 9), LogEntry(S + 2 * H, 2, 10)]
    assert measure(entries).downtime_seconds == 0


def test_state_before_the_first_entry_follows_from_its_type():
    # the first entry is "up" at 02:00: the monitor was down since before the window
    assert measure([LogEntry(S + 2 * H, 2)], started=False).downtime_seconds == 2 * H
    # the first entry is "started" at 02:00: the monitor was paused until then
    assert measure([LogEntry(S + 2 * H, 98)], started=False).monitored_seconds == 10 * DAY - 2 * H
    # the first entry is "paused": nothing says what came before, so that time is not counted
    result = measure([LogEntry(S + 2 * H, 99), LogEntry(S + 3 * H, 98)], started=False)
    assert result.monitored_seconds == 10 * DAY - 3 * H
    # the first entry is "down": taken to follow "up"
    result = measure(down(S + 2 * H, S + 3 * H), started=False)
    assert (result.monitored_seconds, result.downtime_seconds) == (10 * DAY, H)


@pytest.mark.parametrize(
    "status, monitored, downtime",
    [
        (2, 10 * DAY, 0),  # up throughout
        (8, 10 * DAY, 0),  # "seems down" is not a confirmed (logged) outage
        (9, 10 * DAY, 10 * DAY),  # down throughout
        (0, 0, 0),  # paused throughout
        (1, 0, 0),  # not checked yet
    ],
)
def test_monitor_without_any_entry_kept_its_current_status(status, monitored, downtime):
    result = measure([], status=status, started=False)
    assert (result.monitored_seconds, result.downtime_seconds) == (monitored, downtime)


def test_monitor_created_mid_period_counts_from_its_creation():
    created = S + 4 * DAY
    entries = [LogEntry(created, 98, 1)] + down(created + DAY, created + DAY + H, 2)
    result = measure(entries, created=created)
    assert result.monitored_seconds == 6 * DAY
    assert result.uptime_ratio == pytest.approx(1 - H / (6 * DAY))


def test_ongoing_incident_counts_until_now():
    now = S + 5 * DAY
    result = measure(down(now - 3 * H), end=now, status=9)
    assert result.downtime_seconds == 3 * H
    assert result.monitored_seconds == 5 * DAY
    assert result.longest_incident_seconds == 3 * H


# --- uptime ----------------------------------------------------------------------------------------------


def test_paused_time_is_left_out_of_numerator_and_denominator():
    # paused for 2 days, down for 12 hours, over 10 days: 12 h down of 8 days monitored
    entries = [LogEntry(S + DAY, 99, 1), LogEntry(S + 3 * DAY, 98, 2)] + down(
        S + 5 * DAY, S + 5 * DAY + 12 * H, 3
    )
    result = measure(entries)
    assert result.monitored_seconds == 8 * DAY
    assert result.downtime_seconds == 12 * H
    assert result.uptime_ratio == pytest.approx(1 - 12 / (8 * 24))


def test_maintenance_is_left_out_by_default():
    # down 01:00-05:00, maintenance 00:00-02:00 and 04:00-04:30: 2.5 h down of 10 days - 2.5 h
    maintenance = [(S, S + 2 * H), (S + 4 * H, S + 4 * H + 1800)]
    result = measure(down(S + H, S + 5 * H), maintenance=maintenance)
    assert result.monitored_seconds == 10 * DAY - 2 * H - 1800
    assert result.downtime_seconds == 2 * H + 1800


def test_maintenance_counts_as_up_when_configured():
    maintenance = [(S, S + 2 * H), (S + 4 * H, S + 4 * H + 1800)]
    result = measure(down(S + H, S + 5 * H), maintenance=maintenance, policy=MaintenancePolicy.COUNT_AS_UP)
    assert result.monitored_seconds == 10 * DAY
    assert result.downtime_seconds == 2 * H + 1800


def test_a_maintenance_window_cutting_an_outage_leaves_two_incidents():
    result = measure(down(S + H, S + 5 * H), maintenance=[(S + 2 * H, S + 3 * H)])
    assert (result.incidents, result.longest_incident_seconds, result.downtime_seconds) == (2, 2 * H, 3 * H)


def test_no_monitored_time_is_no_data_not_zero_or_full():
    paused_all_along = measure([LogEntry(S - DAY, 99, 1)], status=0)
    assert paused_all_along.monitored_seconds == 0
    assert paused_all_along.uptime_ratio is None
    created_after_the_window = measure([], created=S + 20 * DAY)
    assert created_after_the_window.uptime_ratio is None


def test_tenant_is_down_while_any_of_its_monitors_is_down():
    start, end = S, S + 10 * DAY
    shop = counted_intervals(MonitorInput(LONG_AGO, 2, down(S + H, S + 3 * H)), start, end)
    blog = counted_intervals(
        MonitorInput(LONG_AGO, 2, down(S + 2 * H, S + 4 * H) + down(S + DAY, S + DAY + H, 5)), start, end
    )
    tenant = figures(combine([shop, blog]), start, end)
    # 01:00-04:00 (overlap counted once) and one more hour on day 2
    assert tenant.downtime_seconds == 4 * H
    assert tenant.incidents == 2
    assert tenant.longest_incident_seconds == 3 * H
    assert tenant.monitored_seconds == 10 * DAY


def test_tenant_is_monitored_while_any_monitor_is_monitored():
    start, end = S, S + 10 * DAY
    early = counted_intervals(
        MonitorInput(LONG_AGO, 2, [LogEntry(LONG_AGO, 98, 0), LogEntry(S + 2 * DAY, 99, 1)]), start, end
    )
    late = counted_intervals(
        MonitorInput(S + 5 * DAY, 2, [LogEntry(S + 5 * DAY, 98, 2)] + down(S + 6 * DAY, S + 6 * DAY + H, 3)),
        start,
        end,
    )
    tenant = figures(combine([early, late]), start, end)
    assert tenant.monitored_seconds == 2 * DAY + 5 * DAY
    assert tenant.uptime_ratio == pytest.approx(1 - H / (7 * DAY))
    assert figures(combine([]), start, end).uptime_ratio is None


def test_segments_cover_the_window_without_gaps():
    result = segments(down(S + H, S + 2 * H) + [LogEntry(S + 5 * H, 99, 7)], 2, S, S + DAY)
    assert [(s.start - S, s.end - S, s.state) for s in result] == [
        (0, H, State.UP),
        (H, 2 * H, State.DOWN),
        (2 * H, 5 * H, State.UP),
        (5 * H, DAY, State.PAUSED),
    ]


def test_counted_down_time_never_leaves_monitored_time():
    counted = counted_intervals(
        MonitorInput(LONG_AGO, 2, down(S + H, S + 5 * H), [(S + 2 * H, S + 3 * H)]), S, S + DAY
    )
    assert isinstance(counted, CountedIntervals)
    for d_start, d_end in counted.down:
        assert any(m_start <= d_start and d_end <= m_end for m_start, m_end in counted.monitored)
