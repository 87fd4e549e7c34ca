"""The backup job's results-store rows: its size history in, one dump row (+ table rows) out.

The rows themselves and their queries are the shared contract :mod:`reliability.backups.dumps`; this
module maps a :class:`~reliability.backup.models.BackupResult` onto them.
"""

from __future__ import annotations

import logging
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

from reliability.backup.config import BackupConfig
from reliability.backup.models import BackupRequest, BackupResult, BackupTargets
from reliability.backups.dumps import HistoryPoint

log = logging.getLogger(__name__)


def size_history(
    request: BackupRequest, config: BackupConfig, targets: BackupTargets
) -> tuple[list[HistoryPoint], list[str]]:
    """Recent verified dumps of the same database, format and compression (and warnings)."""
    if not targets.results_dsn:
        return [], []
    from reliability.backups.dumps import recent_dumps
    from reliability.core.store import connect

    try:
        with connect(targets.results_dsn, connect_timeout=30) as conn:
            return recent_dumps(
                conn,
                request.database,
                format=request.format,
                compression=request.compression,
                exclude_interval=request.interval_key,
                limit=config.verify.history_dumps,
                since=datetime.now(UTC) - timedelta(days=config.verify.history_days),
            ), []
    except Exception as exc:
        return [], [f"size history unavailable ({type(exc).__name__}): the size was not compared"]


def store_result(result: BackupResult, targets: BackupTargets, estimates: dict[str, int]) -> BackupResult:
    """Write the detail rows and look up the newest usable dump (for the backup age)."""
    newest = result.dumped_at if result.verdict.usable and result.request.mode == "backup" else None
    if not targets.results_dsn:
        return replace(result, newest_usable_at=newest)
    from reliability.backups.dumps import DumpRecord, TableRecord, latest_dump, record_dump, rows_to_json
    from reliability.core.store import connect

    # The record's fields that the result has under the same name are copied as they are.
    same_name = {
        f.name: getattr(result, f.name)
        for f in fields(DumpRecord)
        if f.name not in ("verdict", "reasons", "tables") and hasattr(result, f.name)
    }
    record = DumpRecord(
        **same_name,
        interval_key=result.request.interval_key,
        database=result.request.database,
        mode=result.request.mode,
        verdict=result.verdict.verdict,
        reasons=result.verdict.reasons,
        tables=len(result.tables),
    )
    tables = [
        TableRecord(name, t.rows, t.digest, t.columns, estimates.get(name))
        for name, t in result.tables.items()
    ]
    try:
        with connect(targets.results_dsn, connect_timeout=30) as conn:
            record_dump(conn, record, tables)
            stored = latest_dump(conn, result.request.database, verdicts=("verified", "suspicious"))
    except Exception as exc:
        from reliability.core.publish import describe_store_error

        log.error("backup result of %s not stored: %s", result.request.database, type(exc).__name__)
        # The rows travel with the outcome; publishing writes them when the store is back (its retry).
        return replace(
            result,
            newest_usable_at=newest,
            store_error=(
                "the results store could not be written "
                f"({describe_store_error(exc, targets.results_dsn)}); publishing stores it on its retry"
            ),
            unstored_rows=rows_to_json(record, tables),
        )
    if stored and (newest is None or stored.dumped_at > newest):
        newest = stored.dumped_at
    return replace(result, newest_usable_at=newest)
