"""One :class:`~reliability.core.outcome.Outcome` per section result: headline, facts, metrics.

Subjects (the Pushgateway groups and the runs table keys): ``section=redis``; ``section=response_time``;
``section=ai_latency, provider=<name>, period=day|month``. A section that could not run becomes a failed
outcome of its own subject, so the other sections still report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import singledispatch
from typing import Any

from reliability.core.outcome import Metric, Outcome
from reliability.core.slack import mrkdwn_escape
from reliability.performance.redis_latency import RedisLatency

JOB = "performance_watchdog"


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
        headline=f"{result.section.replace('_', ' ').capitalize()}: {result.error}"[:500],
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
