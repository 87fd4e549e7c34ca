"""The daily record beside the real-time ``SlowMedianResponse`` alert: how long the median was above 2 s.

At every step of the day (``step_seconds``) the median of ``http_request_duration_seconds`` over the
last ``window`` is taken as the alert takes it (``histogram_quantile(0.5, ...rate(...[window]))``).
The share of the day above target is the share of steps *with data* whose median was above it; steps
without requests are left out (and counted), not taken as fast. Consecutive steps above target make a
window; the worst are the longest (then the highest). Per-route medians come from the day's whole
histogram, where it has a route label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from reliability.performance import promapi
from reliability.performance.config import ResponseTimeConfig
from reliability.performance.schedule import Period

HISTOGRAM = "http_request_duration_seconds"
MAX_POINTS = 10_000  # Prometheus refuses a range query of more than 11,000 points


@dataclass(frozen=True)
class SlowWindow:
    start: datetime
    end: datetime
    peak_seconds: float

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "peak_seconds": self.peak_seconds,
        }


@dataclass(frozen=True)
class ResponseTimeReport:
    period: Period
    target_seconds: float
    step_seconds: int
    steps: int  # steps in the period
    steps_with_data: int
    steps_over_target: int
    peak_seconds: float | None
    worst_windows: tuple[SlowWindow, ...]
    route_medians: dict[str, float | None] = field(default_factory=dict)
    routes_found: bool = False  # the histogram has the route label
    query: str = ""

    @property
    def share_over_target(self) -> float | None:
        return self.steps_over_target / self.steps_with_data if self.steps_with_data else None


def _selector(config: ResponseTimeConfig) -> str:
    return f"{{{config.selector}}}" if config.selector else ""


def median_query(config: ResponseTimeConfig) -> str:
    return (
        f"histogram_quantile(0.5, sum by (le) (rate({HISTOGRAM}_bucket{_selector(config)}[{config.window}])))"
    )


def route_query(config: ResponseTimeConfig, period: Period) -> str:
    seconds = max(1, int(period.seconds))
    return (
        f"histogram_quantile(0.5, sum by ({config.route_label}, le) "
        f"(increase({HISTOGRAM}_bucket{_selector(config)}[{seconds}s])))"
    )


def slow_windows(
    samples: list[tuple[float, float | None]], target: float, step: int
) -> tuple[int, int, float | None, list[SlowWindow]]:
    """``(steps with data, steps over target, peak, windows)`` from ``(unix time, median or None)`` samples."""
    with_data = over = 0
    peak = None
    windows: list[SlowWindow] = []
    run_start = run_last = None
    run_peak = 0.0
    for ts, value in sorted(samples):
        if value is not None:
            with_data += 1
            peak = value if peak is None else max(peak, value)
        if value is not None and value > target:
            over += 1
            if run_last is not None and ts - run_last <= step:
                run_last, run_peak = ts, max(run_peak, value)
                continue
            if run_start is not None:
                windows.append(_window(run_start, run_last, step, run_peak))
            run_start = run_last = ts
            run_peak = value
        elif run_start is not None:
            windows.append(_window(run_start, run_last, step, run_peak))
            run_start = run_last = None
    if run_start is not None:
        windows.append(_window(run_start, run_last, step, run_peak))
    windows.sort(key=lambda w: (-w.seconds, -w.peak_seconds, w.start))
    return with_data, over, peak, windows


def _window(first: float, last: float, step: int, peak: float) -> SlowWindow:
    # Each step stands for the `step` seconds up to it.
    return SlowWindow(
        datetime.fromtimestamp(first - step, tz=UTC), datetime.fromtimestamp(last, tz=UTC), peak
    )


def compute(
    settings: promapi.PrometheusSettings, config: ResponseTimeConfig, period: Period
) -> ResponseTimeReport:
    """Query Prometheus for ``period``; a failed query raises :class:`promapi.QueryFailed` showing it."""
    query = median_query(config)
    step = config.step_seconds
    first = period.start + timedelta(seconds=step)
    samples: list[tuple[float, float | None]] = []
    chunk = timedelta(seconds=step * MAX_POINTS)
    start = first
    while start <= period.end:
        end = min(start + chunk, period.end)
        for series in promapi.query_range(settings, query, start, end, step, config.timeout_seconds):
            samples += [(float(ts), promapi.sample(v)) for ts, v in series["values"]]
        start = end + timedelta(seconds=step)
    steps = int(period.seconds // step)
    with_data, over, peak, windows = slow_windows(samples, config.median_target_seconds, step)
    routes = promapi.query(settings, route_query(config, period), period.end, config.timeout_seconds)
    medians = {
        r["metric"][config.route_label]: promapi.sample(r["value"][1])
        for r in routes
        if config.route_label in r["metric"]
    }
    return ResponseTimeReport(
        period=period,
        target_seconds=config.median_target_seconds,
        step_seconds=step,
        steps=steps,
        steps_with_data=with_data,
        steps_over_target=over,
        peak_seconds=peak,
        worst_windows=tuple(windows[: config.worst_windows]),
        route_medians=dict(sorted(medians.items())),
        routes_found=bool(medians),
        query=query,
    )
