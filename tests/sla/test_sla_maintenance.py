"""Maintenance windows of the four UptimeRobot types expanded into UTC intervals."""

from __future__ import annotations

import calendar

import pytest

from reliability.sla.maintenance import MaintenanceWindow, MaintenanceWindowInvalid, WindowType, occurrences

H = 3600
DAY = 86_400
NOV_1 = calendar.timegm((2026, 11, 1, 0, 0, 0))  # a Sunday
DEC_1 = calendar.timegm((2026, 12, 1, 0, 0, 0))


def window(**api) -> MaintenanceWindow:
    return MaintenanceWindow.from_api({"id": 1, "status": 1, "value": "", **api})


def test_one_off_window_covers_its_start_time_for_its_duration():
    start = NOV_1 + 9 * DAY + 22 * H
    found = occurrences(window(type=1, start_time=start, duration=180), NOV_1, DEC_1)
    assert found == [(start, start + 3 * H)]
    assert occurrences(window(type=1, start_time=start, duration=180), NOV_1, NOV_1 + 9 * DAY) == []


def test_daily_window_recurs_every_day_and_one_running_past_midnight_covers_both_days():
    found = occurrences(window(type=2, start_time="23:00", duration=120), NOV_1, NOV_1 + 3 * DAY)
    # the window of Oct 31 still runs from 00:00 to 01:00 on Nov 1
    assert found == [
        (NOV_1, NOV_1 + H),
        (NOV_1 + 23 * H, NOV_1 + DAY + H),
        (NOV_1 + DAY + 23 * H, NOV_1 + 2 * DAY + H),
        (NOV_1 + 2 * DAY + 23 * H, NOV_1 + 3 * DAY),
    ]


def test_weekly_window_recurs_on_its_iso_weekdays():
    # value 7 = Sunday: Nov 1, 8, 15, 22, 29 of 2026
    found = occurrences(window(type=3, start_time="02:00", duration=60, value="7"), NOV_1, DEC_1)
    assert [(s - NOV_1) // DAY for s, _ in found] == [0, 7, 14, 21, 28]
    assert all(e - s == H and (s - NOV_1) % DAY == 2 * H for s, e in found)
    monday_and_friday = occurrences(
        window(type=3, start_time="02:00", duration=60, value="1-5"), NOV_1, NOV_1 + 7 * DAY
    )
    assert [(s - NOV_1) // DAY for s, _ in monday_and_friday] == [1, 5]


def test_monthly_window_recurs_on_its_days_and_skips_days_the_month_lacks():
    found = occurrences(window(type=4, start_time="04:00", duration=120, value="1-15-31"), NOV_1, DEC_1)
    assert found == [(NOV_1 + 4 * H, NOV_1 + 6 * H), (NOV_1 + 14 * DAY + 4 * H, NOV_1 + 14 * DAY + 6 * H)]
    december = occurrences(
        window(type=4, start_time="04:00", duration=60, value="31"), DEC_1, DEC_1 + 31 * DAY
    )
    assert december == [(DEC_1 + 30 * DAY + 4 * H, DEC_1 + 30 * DAY + 5 * H)]


def test_paused_window_covers_nothing():
    paused = MaintenanceWindow.from_api(
        {"id": 2, "type": 2, "start_time": "03:00", "duration": 30, "status": 0}
    )
    assert occurrences(paused, NOV_1, DEC_1) == []


def test_window_reads_the_api_shape():
    parsed = MaintenanceWindow.from_api(
        {
            "id": 581,
            "user": 1,
            "type": 3,
            "friendly_name": "Patching",
            "start_time": "02:30",
            "duration": 45,
            "value": "2-4",
            "status": 1,
        }
    )
    assert parsed == MaintenanceWindow(
        id=581,
        type=WindowType.WEEKLY,
        duration_seconds=45 * 60,
        start_minute=150,
        days=(2, 4),
        active=True,
        name="Patching",
    )


@pytest.mark.parametrize(
    "api, message",
    [
        ({"type": 2, "start_time": "25:00", "duration": 30}, "HH:mm"),
        ({"type": 2, "start_time": "3pm", "duration": 30}, "HH:mm"),
        ({"type": 3, "start_time": "02:00", "duration": 30, "value": "8"}, "weekdays 1"),
        ({"type": 4, "start_time": "02:00", "duration": 30, "value": ""}, "days 1 to 31"),
        ({"type": 1, "start_time": "tomorrow", "duration": 30}, "Unix time"),
        ({"type": 9, "start_time": "02:00", "duration": 30}, "cannot read"),
        ({"type": 2, "start_time": "02:00", "duration": 0}, "duration must be positive"),
    ],
)
def test_invalid_window_is_rejected_with_a_reason(api, message):
    with pytest.raises(MaintenanceWindowInvalid, match=message):
        MaintenanceWindow.from_api({"id": 9, "status": 1, **api})


def v3_window(**api) -> MaintenanceWindow:
    return MaintenanceWindow.from_api_v3(
        {"id": 7, "name": "v3", "date": None, "days": [], "status": "active", **api}
    )


def test_api_v3_windows_read_as_their_v2_equivalents():
    start = NOV_1 + 9 * DAY + 22 * H
    assert v3_window(interval="once", date="2026-11-10", time="22:00:00", duration=180) == MaintenanceWindow(
        7, WindowType.ONCE, 3 * H, start_epoch=start, name="v3"
    )
    weekly = v3_window(interval="weekly", time="02:00:00", duration=60, days=[7])
    assert occurrences(weekly, NOV_1, DEC_1) == occurrences(
        window(type=3, start_time="02:00", duration=60, value="7"), NOV_1, DEC_1
    )
    paused = v3_window(interval="daily", time="03:00:00", duration=30, status="paused")
    assert not paused.active and occurrences(paused, NOV_1, DEC_1) == []


def test_api_v3_monthly_day_minus_one_is_the_last_day_of_each_month():
    last = v3_window(interval="monthly", time="04:00:00", duration=60, days=[-1])
    found = occurrences(last, NOV_1, calendar.timegm((2027, 1, 1, 0, 0, 0)))
    assert found == [
        (calendar.timegm((2026, 11, 30, 4, 0, 0)), calendar.timegm((2026, 11, 30, 5, 0, 0))),
        (calendar.timegm((2026, 12, 31, 4, 0, 0)), calendar.timegm((2026, 12, 31, 5, 0, 0))),
    ]


@pytest.mark.parametrize(
    "api",
    [
        {"interval": "yearly", "time": "04:00:00", "duration": 60},
        {"interval": "once", "date": "2026-11-31", "time": "04:00:00", "duration": 60},
        {"interval": "monthly", "time": "04:00:00", "duration": 60, "days": [0]},
        {"interval": "daily", "time": "04:00:00", "duration": 60, "status": "archived"},
    ],
)
def test_an_api_v3_window_that_cannot_be_read_is_an_error(api):
    with pytest.raises(MaintenanceWindowInvalid):
        v3_window(**api)
