"""One :class:`~reliability.core.outcome.Outcome` per section result: headline, facts, metrics.

Subjects (the Pushgateway groups and the runs table keys): ``section=redis``; ``section=response_time``;
``section=ai_latency, provider=<name>, period=day|month``. A section that could not run becomes a failed
outcome of its own subject, so the other sections still report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import singledispatch
from typing import Any

from reliability.core.formatting import format_duration
from reliability.core.outcome import Metric, Outcome
from reliability.core.slack import mrkdwn_escape
from reliability.performance.ai_latency import ProviderSla
from reliability.performance.redis_latency import RedisLatency
from reliability.performance.response_time import HISTOGRAM, ResponseTimeReport

JOB = "performance_watchdog"
SECTION_TITLES = {"redis": "Redis latency", "response_time": "Response time", "ai_latency": "AI latency"}


@dataclass(frozen=True)
class SectionFailure:
    """A section that could not produce its report, and why (the query or connection, never a secret)."""

    section: str
    error: str
    subject: tuple[tuple[str, str], ...] = ()
    action: str = ""


def ms(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:
        return "–"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


@singledispatch
def to_outcome(result: Any, started: datetime, finished: datetime) -> Outcome:
    """The outcome of one section result (Redis latency, response-time day, AI provider SLA, failure)."""
    raise TypeError(f"no outcome for {type(result).__name__}")


@to_outcome.register
def _failure(result: SectionFailure, started: datetime, finished: datetime) -> Outcome:
    return Outcome(
        job=JOB,
        subject={"section": result.section, **dict(result.subject)},
        status="failed",
        started_at=started,
        finished_at=finished,
        headline=f"{SECTION_TITLES.get(result.section, result.section)}: {result.error}"[:500],
        summary={"section": result.section, "error": result.error},
        facts=(("Section", result.section), ("Error", mrkdwn_escape(result.error)[:1500])),
        alert=True,
        action=result.action or f"performance.{result.section}",
    )


@to_outcome.register
def _redis(result: RedisLatency, started: datetime, finished: datetime) -> Outcome:
    verdict = "above" if result.breach else "within"
    headline = (
        f"Redis p99 {ms(result.p99_seconds)} over {result.commands} round trips, "
        f"{verdict} the {ms(result.target_seconds)} target"
    )
    facts = [
        ("Round trips", f"p50 {ms(result.p50_seconds)}, p99 {ms(result.p99_seconds)}, max {ms(result.max_seconds)}"),
        ("Latency monitor", mrkdwn_escape(result.monitor)),
    ]  # fmt: skip
    if result.events:
        facts.append(
            (
                "Slow events (server)",
                ", ".join(
                    f"{mrkdwn_escape(e.event)} max {ms(e.max_seconds)}, latest {ms(e.latest_seconds)}"
                    for e in result.events[:5]
                ),
            )
        )
    metrics = [
        Metric(
            "performance_redis_latency_seconds",
            value,
            {"quantile": q},
            "Round-trip latency of Redis commands from the worker (quantile 1 is the maximum)",
        )
        for q, value in (("0.5", result.p50_seconds), ("0.99", result.p99_seconds), ("1", result.max_seconds))
    ]
    metrics += [
        Metric(
            "performance_redis_latency_target_seconds",
            result.target_seconds,
            documentation="The p99 round-trip latency Redis must stay within",
        ),
        Metric(
            "performance_redis_latency_breach",
            1.0 if result.breach else 0.0,
            documentation="1 if the last measured p99 was above its target, else 0",
        ),
    ]
    metrics += [
        Metric(
            "performance_redis_server_latency_max_seconds",
            e.max_seconds,
            {"event": e.event},
            "Slowest event Redis's latency monitor recorded, per event",
        )
        for e in result.events
    ]
    return Outcome(
        job=JOB,
        subject={"section": "redis"},
        status="warning" if result.breach else "success",
        started_at=started,
        finished_at=finished,
        headline=headline,
        summary={
            "where": result.where,
            "commands": result.commands,
            "p50_seconds": result.p50_seconds,
            "p99_seconds": result.p99_seconds,
            "max_seconds": result.max_seconds,
            "target_seconds": result.target_seconds,
            "breach": result.breach,
            "latency_monitor": result.monitor,
            "events": [e.__dict__ for e in result.events],
            "server_p99_seconds": result.server_p99_seconds,
        },
        facts=tuple(facts),
        metrics=tuple(metrics),
        alert=result.breach,
        action="performance.redis_latency",
        log_fields={"p99Ms": round(result.p99_seconds * 1000, 3), "breach": result.breach},
    )


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


# "No data" is pushed as NaN, never 0 or 1, so the gauge of yesterday's figure cannot linger and no rule
# fires on it (the Outcome's JSON form carries NaN through XCom).
def _nan(value: float | None) -> float:
    return math.nan if value is None else value


@to_outcome.register
def _ai_provider(result: ProviderSla, started: datetime, finished: datetime) -> Outcome:
    period, total, target = result.period, result.total, result.target
    name = mrkdwn_escape(result.provider)
    scope = f"{period.key}{'' if period.final else ', to date'}"
    verdict = result.verdict
    calls = total.calls if total else 0
    if verdict == "no_data":
        headline = f"AI latency {name} ({scope}): no data, no calls in the period"
    elif verdict == "no_target":
        headline = (
            f"AI latency {name} ({scope}): {calls:,} calls, no latency target configured "
            "(add the provider to performance.yaml)"
        )
    else:
        within = _ratio(total.within_target_ratio)
        headline = (
            f"AI latency {name} ({scope}): {within} of {calls:,} calls within {ms(target.latency_target_seconds)}"
            + (f", below the {target.objective_ratio:.0%} objective" if verdict == "below_target" else "")
        )
    facts = []
    if total:
        facts.append(("Latency (ok calls)", f"p50 {ms(total.p50_seconds)}, p95 {ms(total.p95_seconds)}, "
                                            f"p99 {ms(total.p99_seconds)}"))  # fmt: skip
        facts.append(("Errors", f"{total.errors:,} of {total.calls:,} ({_ratio(total.error_ratio)})"))
    if len(result.models) > 1:
        facts.append(
            (
                "Models",
                ", ".join(
                    f"{mrkdwn_escape(m.model)}: p99 {ms(m.p99_seconds)}, {_ratio(m.within_target_ratio)} in target"
                    for m in result.models[:6]
                ),
            )
        )
    check = result.cross_check or {}
    if check.get("differs"):
        facts.append(("Cross-check", f"Prometheus p50 {ms(check['prometheus_p50_seconds'])} differs by "
                                     f"{check['difference_ratio']:.0%} from the database's"))  # fmt: skip
    elif check.get("error"):
        facts.append(("Cross-check", "Prometheus not available: " + mrkdwn_escape(check["error"])[:300]))
    labels_q = (("0.5", "p50_seconds"), ("0.95", "p95_seconds"), ("0.99", "p99_seconds"))
    metrics = [
        Metric("performance_ai_calls", float(calls), documentation="AI assistant calls in the reported period"),
        Metric("performance_ai_error_ratio", _nan(total.error_ratio if total else None),
               documentation="Share of AI assistant calls that failed (NaN: no calls)"),
        Metric("performance_ai_within_target_ratio", _nan(total.within_target_ratio if total else None),
               documentation="Share of calls that succeeded within the provider's latency target (NaN: no data or no target)"),
        Metric("performance_ai_below_target", 1.0 if verdict == "below_target" else 0.0,
               documentation="1 if the provider missed its latency objective in the period, else 0"),
    ]  # fmt: skip
    metrics += [
        Metric(
            "performance_ai_latency_seconds",
            _nan(getattr(total, attr) if total else None),
            {"quantile": q},
            "Latency of successful AI assistant calls in the period",
        )
        for q, attr in labels_q
    ]
    if target:
        metrics += [
            Metric("performance_ai_latency_target_seconds", target.latency_target_seconds,
                   documentation="The latency a successful call should stay within"),
            Metric("performance_ai_objective_ratio", target.objective_ratio,
                   documentation="The share of calls that must succeed within the latency target"),
        ]  # fmt: skip
    summary = {
        "provider": result.provider,
        "period": period.as_dict(),
        "verdict": verdict,
        "calls": calls,
        "errors": total.errors if total else 0,
        "error_ratio": total.error_ratio if total else None,
        "p50_seconds": total.p50_seconds if total else None,
        "p95_seconds": total.p95_seconds if total else None,
        "p99_seconds": total.p99_seconds if total else None,
        "within_target_ratio": total.within_target_ratio if total else None,
        "target_seconds": target.latency_target_seconds if target else None,
        "objective_ratio": target.objective_ratio if target else None,
        "cross_check": result.cross_check,
    }
    return Outcome(
        job=JOB,
        subject={"section": "ai_latency", "provider": result.provider, "period": period.kind},
        status="success" if verdict in ("ok", "no_data") else "warning",
        started_at=started,
        finished_at=finished,
        headline=headline,
        summary=summary,
        facts=tuple(facts),
        metrics=tuple(metrics),
        alert=verdict == "below_target",
        action="ai.latency_sla",
        log_fields={
            "provider": result.provider,
            "periodKind": period.kind,
            "periodKey": period.key,
            "final": period.final,
            "verdict": verdict,
            "calls": calls,
            "errorRatio": summary["error_ratio"],
            "p50Ms": _in_ms(summary["p50_seconds"]),
            "p95Ms": _in_ms(summary["p95_seconds"]),
            "p99Ms": _in_ms(summary["p99_seconds"]),
            "withinTargetRatio": summary["within_target_ratio"],
            "targetMs": _in_ms(summary["target_seconds"]),
            "objectiveRatio": summary["objective_ratio"],
        },
    )


def _in_ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


@to_outcome.register
def _response_time(result: ResponseTimeReport, started: datetime, finished: datetime) -> Outcome:
    period, share = result.period, result.share_over_target
    scope = f"{period.key}{'' if period.final else ', to date'}"
    target = f"{result.target_seconds:g} s"
    if share is None:
        headline = f"Response time {scope}: no data (no {HISTOGRAM} samples in the period)"
    else:
        over = format_duration(result.steps_over_target * result.step_seconds)
        headline = f"Response time {scope}: median above {target} for {share:.1%} of the time ({over})"
    facts = [
        ("Coverage", f"{result.steps_with_data} of {result.steps} steps of {result.step_seconds} s with data")
    ]
    if result.peak_seconds is not None:
        facts.append(("Highest median", ms(result.peak_seconds)))
    if result.worst_windows:
        facts.append(("Worst windows", ", ".join(
            f"{w.start:%H:%M:%S}–{w.end:%H:%M:%S} UTC (peak {ms(w.peak_seconds)})" for w in result.worst_windows
        )))  # fmt: skip
    if result.route_medians:
        slowest = sorted(result.route_medians.items(), key=lambda kv: -(kv[1] or 0))[:8]
        facts.append(("Route medians", ", ".join(f"`{mrkdwn_escape(r)}` {ms(v)}" for r, v in slowest)))
    elif share is not None:
        facts.append(("Route medians", "the histogram has no route label"))
    metrics = [
        Metric("performance_http_median_over_target_ratio", _nan(share),
               documentation="Share of the reported day the median response time was above target (NaN: no data)"),
        Metric("performance_http_median_target_seconds", result.target_seconds,
               documentation="The median response time target"),
        Metric("performance_http_median_worst_seconds", _nan(result.peak_seconds),
               documentation="Highest median response time of the reported day"),
    ]  # fmt: skip
    metrics += [
        Metric("performance_http_route_median_seconds", _nan(v), {"route": r},
               "Median response time per route over the reported day")
        for r, v in list(result.route_medians.items())[:50]
    ]  # fmt: skip
    return Outcome(
        job=JOB,
        subject={"section": "response_time"},
        status="success" if share == 0 else "warning",
        started_at=started,
        finished_at=finished,
        headline=headline,
        summary={
            "period": period.as_dict(),
            "share_over_target": share,
            "target_seconds": result.target_seconds,
            "steps": result.steps,
            "steps_with_data": result.steps_with_data,
            "steps_over_target": result.steps_over_target,
            "peak_seconds": result.peak_seconds,
            "worst_windows": [w.as_dict() for w in result.worst_windows],
            "route_medians": result.route_medians,
            "query": result.query,
        },
        facts=tuple(facts),
        metrics=tuple(metrics),
        action="performance.response_time",
        log_fields={"periodKey": period.key, "shareOverTarget": share, "peakMs": _in_ms(result.peak_seconds)},
    )
