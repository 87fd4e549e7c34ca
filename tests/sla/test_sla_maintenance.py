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
