"""The backup job's rows in the results store (migrations 002, 011): one per dump object, one per table.

Keyed by (interval_key, database, mode, dump_key) and written delete-then-insert in one transaction: a
rerun of the same interval replaces the rows of the same object and of attempts that left no object, and
keeps the row of every object an earlier attempt left in S3 (so no stored backup is without its row). The restore test reads :func:`latest_dump` to pick the newest
verified dump; this job reads :func:`recent_dumps` for the size history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class TableRecord:
    table_name: str
    rows: int
    digest: str
    columns: tuple[str, ...] = ()
    source_reltuples: int | None = None


@dataclass(frozen=True)
class DumpRecord:
    interval_key: str
    database: str
    mode: str  # backup (a new dump) | verify (an existing object, verify-only mode)
    verdict: str
    bucket: str
    dump_key: str
    uploaded: bool
    started_at: datetime
    finished_at: datetime
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    manifest_key: str | None = None
    format: str | None = None
    compression: int | None = None
    dumped_at: datetime | None = None
    size_bytes: int = 0
    sha256: str | None = None
    tables: int = 0
    rows: int = 0
    server_version: str | None = None
    pg_dump_version: str | None = None
    pg_dump_exit: int | None = None
    toc: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredDump:
    database: str
    verdict: str
    bucket: str
    dump_key: str
    manifest_key: str | None
    sha256: str | None
    size_bytes: int
    dumped_at: datetime
    format: str | None
    interval_key: str


_COLUMNS = [f for f in DumpRecord.__dataclass_fields__]


def record_dump(conn, record: DumpRecord, tables: list[TableRecord] | tuple[TableRecord, ...] = ()) -> None:
    """Record ``record`` for its (interval, database, mode), replacing that triple's rows of the same object
    and those of attempts that left no object (commits)."""
    from psycopg.types.json import Jsonb

    values = [
        Jsonb(list(v)) if name in ("reasons", "warnings") else Jsonb(v) if name == "toc" else v
        for name, v in ((n, getattr(record, n)) for n in _COLUMNS)
    ]
    key = (record.interval_key, record.database, record.mode, record.dump_key)
    with conn.transaction():
        conn.execute(
            "DELETE FROM reliability.backup_dumps WHERE interval_key = %s AND database = %s AND mode = %s"
            " AND (dump_key = %s OR NOT uploaded)",
            key,
        )
        conn.execute(
            f"INSERT INTO reliability.backup_dumps ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(_COLUMNS))})",
            values,
        )
        if tables:
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO reliability.backup_tables (interval_key, database, mode, dump_key, table_name, "
                    "rows, digest, columns, source_reltuples) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (*key, t.table_name, t.rows, t.digest, Jsonb(list(t.columns)), t.source_reltuples)
                        for t in tables
                    ],
                )
    conn.commit()


@dataclass(frozen=True)
class HistoryPoint:
    """A recent verified dump of the same database, format and compression."""

    size_bytes: int
    rows: int
    finished_at: datetime


def recent_dumps(
    conn, database: str, *, format: str, compression: int, exclude_interval: str, limit: int, since: datetime
) -> list[HistoryPoint]:
    """The last ``limit`` usable new dumps of ``database`` with the same format and compression, made after
    ``since`` and not in ``exclude_interval`` (a rerun must not compare a dump with itself)."""
    rows = conn.execute(
        """SELECT size_bytes, rows, dumped_at FROM reliability.backup_dumps
           WHERE database = %s AND mode = 'backup' AND uploaded AND verdict IN ('verified', 'suspicious')
             AND format = %s AND compression = %s AND interval_key <> %s AND dumped_at >= %s
           ORDER BY dumped_at DESC LIMIT %s""",
        (database, format, compression, exclude_interval, since, limit),
    ).fetchall()
    return [HistoryPoint(size_bytes=int(s), rows=int(r), finished_at=d) for s, r, d in rows]


def latest_dump(
    conn, database: str, verdicts: tuple[str, ...] = ("verified",), max_age: timedelta | None = None
) -> StoredDump | None:
    """The newest new dump of ``database`` whose object exists and whose verdict is in ``verdicts``."""
    query = """SELECT database, verdict, bucket, dump_key, manifest_key, sha256, size_bytes, dumped_at,
                      format,
                      interval_key
               FROM reliability.backup_dumps
               WHERE database = %s AND mode = 'backup' AND uploaded AND verdict = ANY(%s)"""
    params: list = [database, list(verdicts)]
    if max_age is not None:
        query += " AND dumped_at >= now() - %s"
        params.append(max_age)
    row = conn.execute(query + " ORDER BY dumped_at DESC LIMIT 1", params).fetchone()
    return StoredDump(*row) if row else None


_TIMES = ("started_at", "finished_at", "dumped_at")


def rows_to_json(record: DumpRecord, tables: list[TableRecord]) -> dict[str, Any]:
    """A dump's rows as JSON-safe values (XCom), for a later try when the results store was down."""
    values = {f: getattr(record, f) for f in _COLUMNS}
    for name in _TIMES:
        values[name] = values[name].isoformat() if values[name] else None
    return {"record": values, "tables": [[t.table_name, t.rows, t.digest, list(t.columns), t.source_reltuples]
                                         for t in tables]}  # fmt: skip


def rows_from_json(data: dict[str, Any]) -> tuple[DumpRecord, list[TableRecord]]:
    values = dict(data["record"])
    for name in _TIMES:
        values[name] = datetime.fromisoformat(values[name]) if values[name] else None
    values["reasons"], values["warnings"] = tuple(values["reasons"]), tuple(values["warnings"])
    tables = [TableRecord(n, r, d, tuple(c), s) for n, r, d, c, s in data["tables"]]
    return DumpRecord(**values), tables
