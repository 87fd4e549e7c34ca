"""The watchdog's rows in the results store (migration ``009_performance.sql``).

Each save is one transaction that replaces the rows of the same run (Redis) or period (response time,
AI latency), so a rerun never doubles them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reliability.performance.ai_latency import ALL_MODELS, LatencyFigures, ProviderSla
from reliability.performance.redis_latency import RedisLatency
from reliability.performance.response_time import ResponseTimeReport
from reliability.performance.schedule import Period


def _jsonb(value):
    from psycopg.types.json import Jsonb

    return Jsonb(value)


def save_redis_latency(conn, result: RedisLatency, interval_key: str, measured_at: datetime) -> None:
    with conn.transaction():
        conn.execute(
            "DELETE FROM reliability.performance_redis_latency WHERE interval_key = %s", (interval_key,)
        )
        conn.execute(
            """INSERT INTO reliability.performance_redis_latency
                   (interval_key, measured_at, target, commands, p50_seconds, p99_seconds, max_seconds,
                    target_seconds, breach, latency_monitor, events, server_p99_seconds)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                interval_key,
                measured_at,
                result.where,
                result.commands,
                result.p50_seconds,
                result.p99_seconds,
                result.max_seconds,
                result.target_seconds,
                result.breach,
                result.monitor,
                _jsonb([e.__dict__ for e in result.events]),
                _jsonb(result.server_p99_seconds),
            ),
        )


def save_ai_latency(
    conn, slas: list[ProviderSla], period: Period, interval_key: str, computed_at: datetime
) -> int:
    """Replace the period's rows: per provider one ``*`` row (the verdict's) and one per model."""
    rows = []
    for sla in slas:
        target = sla.target
        total = sla.total or LatencyFigures(sla.provider, ALL_MODELS, 0, 0, None, None, None, None)
        for figures in (total, *sla.models):
            rows.append(
                (
                    period.kind, period.key, sla.provider, figures.model, period.start, period.end,
                    period.final, interval_key, computed_at, figures.calls, figures.errors,
                    figures.p50_seconds, figures.p95_seconds, figures.p99_seconds, figures.within_target,
                    figures.within_target_ratio, target.latency_target_seconds if target else None,
                    target.objective_ratio if target else None,
                    sla.verdict if figures.model == ALL_MODELS else _model_verdict(sla, figures),
                    _jsonb(sla.cross_check) if figures.model == ALL_MODELS and sla.cross_check else None,
                )
            )  # fmt: skip
    with conn.transaction():
        conn.execute(
            "DELETE FROM reliability.performance_ai_latency WHERE period_kind = %s AND period = %s",
            (period.kind, period.key),
        )
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO reliability.performance_ai_latency VALUES ({', '.join(['%s'] * 20)})", rows
            )
    return len(rows)


def _model_verdict(sla: ProviderSla, figures: LatencyFigures) -> str:
    if sla.target is None:
        return "no_target"
    ratio = figures.within_target_ratio
    return "ok" if ratio is not None and ratio >= sla.target.objective_ratio else "below_target"


def save_response_time(conn, report: ResponseTimeReport, interval_key: str, computed_at: datetime) -> None:
    period = report.period
    with conn.transaction():
        conn.execute(
            "DELETE FROM reliability.performance_response_time WHERE day = %s", (period.start.date(),)
        )
        conn.execute(
            """INSERT INTO reliability.performance_response_time
                   (day, period_end, interval_key, computed_at, target_seconds, step_seconds, steps_with_data,
                    steps_over_target, share_over_target, worst_windows, route_medians, query)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                period.start.date(), period.end, interval_key, computed_at, report.target_seconds,
                report.step_seconds, report.steps_with_data, report.steps_over_target, report.share_over_target,
                _jsonb([w.as_dict() for w in report.worst_windows]), _jsonb(report.route_medians), report.query,
            ),
        )  # fmt: skip


@dataclass(frozen=True)
class AiLatencyRow:
    """One provider's AI latency SLA for a month (all models), as the SLA reports page shows it."""

    provider: str
    final: bool
    calls: int
    errors: int
    p50_seconds: float | None
    p95_seconds: float | None
    p99_seconds: float | None
    within_target_ratio: float | None
    target_seconds: float | None
    objective_ratio: float | None
    verdict: str


def ai_latency_month(conn, period: str) -> list[AiLatencyRow]:
    """The providers' AI latency SLA of ``period`` (YYYY-MM), worst verdict first; empty when not reported."""
    from psycopg.rows import class_row

    with conn.cursor(row_factory=class_row(AiLatencyRow)) as cur:
        cur.execute(
            """SELECT provider, final, calls, errors, p50_seconds, p95_seconds, p99_seconds,
                      within_target_ratio, target_seconds, objective_ratio, verdict
                 FROM reliability.performance_ai_latency
                WHERE period_kind = 'month' AND period = %s AND model = '*'
                ORDER BY verdict = 'ok', within_target_ratio NULLS FIRST, provider""",
            (period,),
        )
        return cur.fetchall()
