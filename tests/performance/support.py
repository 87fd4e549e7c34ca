"""Helpers of the performance tests: calls into assistant_calls, waiting for Prometheus history."""

from __future__ import annotations

import time


def insert_calls(dsn: str, calls: list[tuple[str, str, int, str, str]]) -> None:
    """``(provider, model, latency_ms, status, called_at)`` rows into assistant_calls."""
    import psycopg

    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO assistant_calls (tenant_id, provider, model, prompt_tokens, completion_tokens,
                                            latency_ms, status, called_at)
               VALUES (1, %s, %s, 10, 10, %s, %s, %s)""",
            calls,
        )


def wait_for_history(exporter, seconds: float) -> None:
    """Sleep until the exporter has served for ``seconds`` (Prometheus scraped it all along)."""
    remaining = exporter.started + seconds - time.time()
    if remaining > 0:
        time.sleep(remaining)
