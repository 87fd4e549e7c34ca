"""The shared runs table: one row per (job, interval), replaced by a rerun."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row


@dataclass(frozen=True)
class RunRecord:
    job: str
    interval_key: str
    status: str  # success | failed | warning | running
    started_at: datetime
    finished_at: datetime | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    logical_date: datetime | None = None


def record_run(conn, record: RunRecord) -> None:
    """Insert or replace the run of ``record.job`` for ``record.interval_key`` (commits)."""
    from psycopg.types.json import Jsonb

    conn.execute(
        """INSERT INTO reliability.runs (job, interval_key, logical_date, status, started_at, finished_at, summary)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (job, interval_key) DO UPDATE SET
               logical_date = EXCLUDED.logical_date, status = EXCLUDED.status,
               started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
               summary = EXCLUDED.summary, attempts = reliability.runs.attempts + 1, updated_at = now()""",
        (
            record.job,
            record.interval_key,
            record.logical_date,
            record.status,
            record.started_at,
            record.finished_at,
            Jsonb(record.summary),
        ),
    )
    conn.commit()


def latest_runs(conn, job: str, limit: int = 10) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """SELECT job, interval_key, logical_date, status, started_at, finished_at, summary, attempts
               FROM reliability.runs WHERE job = %s ORDER BY started_at DESC LIMIT %s""",
            (job, limit),
        )
        return cur.fetchall()
