"""Error budget: how much downtime a target allows, how much is used, and how fast it burns.

With target ``t`` the budget is the share ``1 - t`` of the monitored time. The burn rate over a window
is the share of the budget consumed in the window divided by the share of the period the window spans,
which reduces to ``(downtime / monitored time in the window) / (1 - t)``: 1 means on track to use
exactly the budget by the end of the period.
"""

from __future__ import annotations

from dataclasses import dataclass

from reliability.sla.uptime import UptimeFigures

# Downtime equal to the allowance is not a breach; float rounding of (1 - target) must not make it one.
_EPSILON_SECONDS = 1e-6


@dataclass(frozen=True)
class BudgetFigures:
    target: float
    allowed_seconds: float
    used_seconds: int
    remaining_ratio: float | None  # 1 - used / allowed; negative once overspent; None with no monitored time
    burn_rate_1d: float | None
    burn_rate_7d: float | None
    burn_rate_period: float | None  # over the elapsed part of the period
    breach: bool | None  # used exceeds what the whole period allows: the target is missed whatever follows
    projected_breach: bool | None  # at the period's burn rate so far, the budget runs out before the end


def burn_rate(window: UptimeFigures, target: float) -> float | None:
    if window.monitored_seconds <= 0:
        return None
    return (window.downtime_seconds / window.monitored_seconds) / (1.0 - target)


def error_budget(
    period: UptimeFigures, last_day: UptimeFigures, last_week: UptimeFigures, target: float, seconds_left: int
) -> BudgetFigures:
    """Budget of a period whose elapsed part is ``period``; ``seconds_left`` of it are still to come.

    The time still to come is assumed monitored (the budget of a provisional month is the one the whole
    month will have if nothing is paused from now on); for a final report it is 0.
    """
    if not 0.0 < target < 1.0:
        raise ValueError(f"target must be strictly between 0 and 1, got {target}")
    if seconds_left < 0:
        raise ValueError(f"seconds_left must not be negative, got {seconds_left}")
    allowed = (1.0 - target) * (period.monitored_seconds + seconds_left)
    used = period.downtime_seconds
    burn = burn_rate(period, target)
    no_data = period.monitored_seconds <= 0
    allowed_so_far = (1.0 - target) * period.monitored_seconds
    return BudgetFigures(
        target=target,
        allowed_seconds=allowed,
        used_seconds=used,
        remaining_ratio=None if no_data or allowed <= 0 else 1.0 - used / allowed,
        burn_rate_1d=burn_rate(last_day, target),
        burn_rate_7d=burn_rate(last_week, target),
        burn_rate_period=burn,
        breach=None if no_data else used - allowed > _EPSILON_SECONDS,
        projected_breach=None if no_data else used - allowed_so_far > _EPSILON_SECONDS,
    )
