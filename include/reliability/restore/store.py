"""The restore test's rows in the results store (``004_restore.sql``), and the dumps it may restore.

Every write replaces the rows of its (interval, database) in one transaction, so a rerun of the same
interval never duplicates. Validation details are written by the validate step (they can be large: the
GX results), the test row by the last step, once the whole story is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reliability.core.outcome import Outcome
from reliability.restore.integrity import IntegrityReport
from reliability.restore.state import RunState
from reliability.restore.validate import ValidationReport


@dataclass(frozen=True)
class RestoreTestRow:
    interval_key: str
    database: str
    status: str
    started_at: datetime
    finished_at: datetime
    rto_target_seconds: float
    rpo_target_seconds: float
    failed_step: str | None = None
    failed_check: str | None = None
    failed_table: str | None = None
    message: str = ""
    backup_key: str | None = None
    backup_sha256: str | None = None
    backup_size_bytes: int | None = None
    backup_snapshot_at: datetime | None = None
    backup_age_seconds: float | None = None
    scratch_database: str | None = None
    scratch_dropped: bool | None = None
    download_seconds: float | None = None
    restore_seconds: float | None = None
    rto_seconds: float | None = None
    validate_seconds: float | None = None
    rto_breached: bool = False
    rpo_breached: bool = False
    tables_restored: int | None = None
    rows_restored: int | None = None
    rows_mismatched: int | None = None
    expectations_evaluated: int | None = None
    expectations_failed: int | None = None
    amcheck: str | None = None
    foreign_keys_checked: int | None = None
    foreign_key_violations: int | None = None
    sequences_checked: int | None = None
    sequences_behind: int | None = None
    not_valid_constraints: int | None = None
    collation_version_mismatch: bool | None = None
    summary: dict[str, Any] = field(default_factory=dict)


_COLUMNS = tuple(RestoreTestRow.__dataclass_fields__)


# Columns filled from the validate step's figures: column -> key in RunState.validation.
_FROM_VALIDATION = {
    "tables_restored": "tables",
    "rows_restored": "rows",
    "rows_mismatched": "rows_mismatched",
    "expectations_evaluated": "expectations_evaluated",
    "expectations_failed": "expectations_failed",
    "amcheck": "amcheck",
    "foreign_keys_checked": "foreign_keys",
    "foreign_key_violations": "foreign_key_violations",
    "sequences_checked": "sequences",
    "sequences_behind": "sequences_behind",
    "not_valid_constraints": "not_valid_total",
    "collation_version_mismatch": "collation_mismatch",
}


def restore_test_row(state: RunState, outcome: Outcome) -> RestoreTestRow:
    """The row of a concluded run: the backup and timings from its state, the verdict from its outcome."""
    summary, failure, backup, t = outcome.summary, state.failure, state.backup, state.timings
    validation = state.validation or {}
    return RestoreTestRow(
        interval_key=state.interval_key,
        database=state.database,
        status=outcome.status,
        started_at=outcome.started_at,
        finished_at=outcome.finished_at,
        rto_target_seconds=summary["rto_target_seconds"],
        rpo_target_seconds=summary["rpo_target_seconds"],
        failed_step=failure.step if failure else None,
        failed_check=failure.check if failure else None,
        failed_table=failure.table if failure else None,
        message=outcome.headline,
        backup_key=backup.key if backup else None,
        backup_sha256=backup.sha256 if backup else None,
        backup_size_bytes=backup.size_bytes if backup else None,
        backup_snapshot_at=backup.snapshot_at if backup else None,
        backup_age_seconds=state.backup_age_seconds,
        scratch_database=state.scratch_name or None,
        scratch_dropped=state.scratch_dropped,
        download_seconds=t.get("download_and_check"),
        restore_seconds=t.get("pg_restore"),
        rto_seconds=summary["rto_seconds"],
        validate_seconds=t.get("validate"),
        rto_breached=summary["rto_breached"],
        rpo_breached=summary["rpo_breached"],
        summary=summary,
        **{column: validation.get(key) for column, key in _FROM_VALIDATION.items()},
    )


def save_run(conn, state: RunState, outcome: Outcome) -> None:
    """Store the concluded run; a run that never validated also clears stale details of an earlier try."""
    if not state.validation:
        save_validation(conn, state.interval_key, state.database, None)
    save_test(conn, restore_test_row(state, outcome))


def recorded_candidates(conn, database: str, bucket: str) -> list[str]:
    """The newest verified dump of ``database`` in ``bucket`` that backup_verify recorded (empty: none)."""
    from reliability.backups.dumps import latest_dump

    if conn.execute("SELECT to_regclass('reliability.backup_dumps')").fetchone()[0] is None:
        return []
    dump = latest_dump(conn, database)
    return [dump.dump_key] if dump and dump.bucket == bucket and dump.manifest_key else []


def save_test(conn, row: RestoreTestRow) -> None:
    """Insert or replace the test of (interval, database) (commits)."""
    from psycopg import sql
    from psycopg.types.json import Jsonb

    values = [Jsonb(v) if name == "summary" else v for name, v in ((n, getattr(row, n)) for n in _COLUMNS)]
    updates = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(n))
        for n in _COLUMNS
        if n not in ("interval_key", "database")
    )
    conn.execute(
        sql.SQL(
            "INSERT INTO reliability.restore_tests ({}) VALUES ({}) "
            "ON CONFLICT (interval_key, database) DO UPDATE SET {}"
        ).format(
            sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)),
            sql.SQL(", ").join(sql.Placeholder() * len(_COLUMNS)),
            updates,
        ),
        values,
    )
    conn.commit()


def save_validation(conn, interval_key: str, database: str, report: ValidationReport | None) -> None:
    """Replace the per-table rows and GX results of (interval, database); ``None`` just clears them (commits)."""
    from psycopg.types.json import Jsonb

    with conn.cursor() as cur:
        for table in ("restore_test_tables", "restore_test_expectations", "restore_test_checks"):
            cur.execute(
                f"DELETE FROM reliability.{table} WHERE interval_key = %s AND database = %s",
                (interval_key, database),
            )
        if report is not None:
            cur.executemany(
                """INSERT INTO reliability.restore_test_tables (interval_key, database, table_name, present,
                       expected_columns, restored_columns, expected_rows, restored_rows, expected_digest,
                       restored_digest, expectations_evaluated, expectations_failed, failed_checks,
                       foreign_key_violations, sequences_behind)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                [
                    (
                        interval_key,
                        database,
                        t.table,
                        t.present,
                        list(t.expected_columns),
                        list(t.restored_columns),
                        t.expected_rows,
                        t.restored_rows,
                        t.expected_digest,
                        t.restored_digest,
                        t.expectations_evaluated,
                        t.expectations_failed,
                        list(t.failed_checks),
                        t.foreign_key_violations,
                        t.sequences_behind,
                    )
                    for t in report.tables
                ],
            )
            cur.executemany(
                """INSERT INTO reliability.restore_test_checks (interval_key, database, table_name, kind, name, ok,
                       violations, detail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
                [(interval_key, database, *row) for row in _check_rows(report.integrity)],
            )
            cur.executemany(
                """INSERT INTO reliability.restore_test_expectations (interval_key, database, table_name, success,
                       result) VALUES (%s, %s, %s, %s, %s)""",
                [
                    (interval_key, database, name, bool(result.get("success")), Jsonb(result))
                    for name, result in report.expectations.results.items()
                ],
            )
    # One commit for the deletes and inserts: readers never see the interval half-replaced.
    conn.commit()


def _check_rows(integrity: IntegrityReport) -> list[tuple]:
    """(table, kind, name, ok, violations, detail) of every object the integrity checks looked at."""
    rows = [
        (f.table, "foreign_key", f.name, f.ok, f.violations, "" if f.ok else f.describe())
        for f in integrity.foreign_keys
    ]
    rows += [
        (q.table, "sequence", q.name, q.ok, None, "" if q.ok else q.describe()) for q in integrity.sequences
    ]
    rows += [
        (c.table, "not_valid", c.name, False, None, f"{c.kind} constraint NOT VALID")
        for c in integrity.not_valid
    ]
    return rows


def check_results(conn, interval_key: str, database: str) -> list[dict[str, Any]]:
    """The foreign keys, sequences and NOT VALID constraints one test looked at, by table."""
    from psycopg.rows import dict_row

    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            """SELECT * FROM reliability.restore_test_checks WHERE interval_key = %s AND database = %s
               ORDER BY table_name, kind, name""",
            (interval_key, database),
        )
        .fetchall()
    )


def latest_tests(conn, database: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
    """The most recent restore tests, newest first (for reports and the UI)."""
    from psycopg.rows import dict_row

    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            """SELECT * FROM reliability.restore_tests WHERE %(db)s::text IS NULL OR database = %(db)s
               ORDER BY finished_at DESC LIMIT %(limit)s""",
            {"db": database, "limit": limit},
        )
        .fetchall()
    )


def table_results(conn, interval_key: str, database: str) -> list[dict[str, Any]]:
    from psycopg.rows import dict_row

    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            """SELECT * FROM reliability.restore_test_tables WHERE interval_key = %s AND database = %s
               ORDER BY table_name""",
            (interval_key, database),
        )
        .fetchall()
    )
