"""The watchdog's rows in the results store (migration ``009_performance.sql``).

Each save is one transaction that replaces the rows of the same run (Redis) or period (response time,
AI latency), so a rerun never doubles them.
"""

from __future__ import annotations

from datetime import datetime

from reliability.performance.redis_latency import RedisLatency


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
