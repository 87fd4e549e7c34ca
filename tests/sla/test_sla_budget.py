"""Error budget, burn rates and breaches, with figures computed by hand."""

from __future__ import annotations

import pytest

from reliability.sla.budget import burn_rate, error_budget
from reliability.sla.uptime import UptimeFigures

DAY = 86_400
NO_WINDOW = UptimeFigures(0, 0, 0, 0)


def period(monitored: int, down: int) -> UptimeFigures:
    return UptimeFigures(monitored, down, 1 if down else 0, down)


def test_budget_of_a_provisional_month_is_the_whole_months_allowance():
    # 10 days monitored so far, 20 days to go, target 99%: 0.01 * 30 days = 25,920 s allowed
    budget = error_budget(period(10 * DAY, 3600), NO_WINDOW, NO_WINDOW, 0.99, seconds_left=20 * DAY)
    assert budget.allowed_seconds == pytest.approx(25_920)
    assert budget.used_seconds == 3600
    assert budget.remaining_ratio == pytest.approx(1 - 3600 / 25_920)
    assert budget.breach is False


def test_burn_rate_one_means_on_track_to_use_exactly_the_budget():
    # 864 s down in a fully monitored day is 1% of the day: exactly a 99% target's pace
    day = UptimeFigures(DAY, 864, 1, 864)
    assert burn_rate(day, 0.99) == pytest.approx(1.0)
    # the same day against 99.9%: ten times too fast
    assert burn_rate(day, 0.999) == pytest.approx(10.0)
    assert burn_rate(NO_WINDOW, 0.99) is None


def test_burn_rates_per_window():
    budget = error_budget(
        period(10 * DAY, 3 * 8640),
        UptimeFigures(DAY, 8640, 1, 8640),
        UptimeFigures(7 * DAY, 2 * 8640, 2, 8640),
        0.99,
        seconds_left=20 * DAY,
    )
    assert budget.burn_rate_1d == pytest.approx(10.0)  # 10% of the day down against 1% allowed
    assert budget.burn_rate_7d == pytest.approx(2 / 7 * 10)
    assert budget.burn_rate_period == pytest.approx(3.0)  # 3% of 10 days


def test_final_month_breaches_exactly_when_uptime_is_below_target():
    month = 30 * DAY
    allowed = int(month * 0.01)  # 25,920 s
    at_target = error_budget(period(month, allowed), NO_WINDOW, NO_WINDOW, 0.99, seconds_left=0)
    assert at_target.breach is False
    assert at_target.remaining_ratio == pytest.approx(0.0)
    one_second_more = error_budget(period(month, allowed + 1), NO_WINDOW, NO_WINDOW, 0.99, seconds_left=0)
    assert one_second_more.breach is True
    assert one_second_more.remaining_ratio < 0


def test_provisional_breach_only_once_the_whole_months_budget_is_spent():
    # 5 days in, 4 hours down at 99%: the pace breaks the target (projected) but 7.2 h are allowed in all
    on_course_to_miss = error_budget(
        period(5 * DAY, 4 * 3600), NO_WINDOW, NO_WINDOW, 0.99, seconds_left=25 * DAY
    )
    assert (on_course_to_miss.breach, on_course_to_miss.projected_breach) == (False, True)
    # 8 hours down: more than the 7.2 h the whole month allows, so the target is missed whatever follows
    missed = error_budget(period(5 * DAY, 8 * 3600), NO_WINDOW, NO_WINDOW, 0.99, seconds_left=25 * DAY)
    assert (missed.breach, missed.projected_breach) == (True, True)
    fine = error_budget(period(5 * DAY, 600), NO_WINDOW, NO_WINDOW, 0.99, seconds_left=25 * DAY)
    assert (fine.breach, fine.projected_breach) == (False, False)


@pytest.mark.parametrize("seconds_left", [0, 20 * DAY])
def test_no_monitored_time_gives_no_verdict_no_remaining_budget_and_no_burn_rate(seconds_left):
    budget = error_budget(NO_WINDOW, NO_WINDOW, NO_WINDOW, 0.999, seconds_left=seconds_left)
    assert budget.breach is None
    assert budget.projected_breach is None
    assert budget.burn_rate_period is None
    assert budget.remaining_ratio is None


@pytest.mark.parametrize("target", [0.0, 1.0, 1.5, -0.1])
def test_target_must_be_strictly_between_zero_and_one(target):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        error_budget(period(DAY, 0), NO_WINDOW, NO_WINDOW, target, seconds_left=0)
