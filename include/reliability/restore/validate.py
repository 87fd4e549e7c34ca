"""Prove the restored database equals the dump: per table, every check recorded.

For each table of the manifest: it exists with the same ordered columns; its exact row count and its
order-independent content digest equal the manifest's (the digest is what catches values changed
silently on the way, which counts and not-null/unique checks do not); its Great Expectations suite
passes. For the database: ``pg_amcheck`` finds its indexes consistent with their tables.

The three readers run at the same time: GX (its import is the longest single chain) in a thread of
this process, the digests in worker processes, pg_amcheck as a child process.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from reliability.backups.manifest import Manifest
from reliability.backups.names import split_qualified
from reliability.restore.amcheck import AmcheckResult, AmcheckRun, index_tables
from reliability.restore.declared import DeclaredExpectation
from reliability.restore.digest import DigestPool, TableDigestResult
from reliability.restore.expectations import ExpectationsReport, TableSpec, run_expectations
from reliability.restore.integrity import IntegrityReport, check_integrity

# Order of importance: the first finding of a run is its headline.
CHECKS = (
    "missing_table",
    "columns",
    "row_count",
    "digest",
    "foreign_key",
    "sequence",
    "expectations",
    "amcheck",
)


@dataclass(frozen=True)
class Finding:
    check: str  # one of CHECKS
    table: str | None
    message: str


@dataclass(frozen=True)
class TableResult:
    table: str  # as in the manifest
    present: bool
    expected_columns: tuple[str, ...]
    restored_columns: tuple[str, ...]
    expected_rows: int
    restored_rows: int | None
    expected_digest: str
    restored_digest: str | None
    expectations_evaluated: int = 0
    expectations_failed: int = 0
    failed_checks: tuple[str, ...] = ()
    foreign_key_violations: int = 0  # rows of this table referencing nothing, over all its foreign keys
    sequences_behind: int = 0  # sequences owned by its columns whose next value is already taken

    @property
    def rows_mismatched(self) -> int:
        """Rows that differ: the count difference, and at least one when equal counts hide a changed value.

        A digest says *that* the content differs, not how many rows; one is the honest lower bound.
        """
        if not self.present or self.restored_rows is None:
            return self.expected_rows
        difference = abs(self.expected_rows - self.restored_rows)
        if self.restored_digest is not None and self.restored_digest != self.expected_digest:
            return max(difference, 1)
        return difference

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "present": self.present,
            "expected_columns": list(self.expected_columns),
            "restored_columns": list(self.restored_columns),
            "expected_rows": self.expected_rows,
            "restored_rows": self.restored_rows,
            "expected_digest": self.expected_digest,
            "restored_digest": self.restored_digest,
            "expectations_evaluated": self.expectations_evaluated,
            "expectations_failed": self.expectations_failed,
            "failed_checks": list(self.failed_checks),
            "foreign_key_violations": self.foreign_key_violations,
            "sequences_behind": self.sequences_behind,
        }


@dataclass(frozen=True)
class ValidationReport:
    tables: tuple[TableResult, ...]
    findings: tuple[Finding, ...]
    expectations: ExpectationsReport
    amcheck: AmcheckResult
    integrity: IntegrityReport = IntegrityReport()
    unlisted_tables: tuple[str, ...] = ()  # restored tables the manifest does not list
    timings: dict[str, float] = field(default_factory=dict)
    digests_from_restore: int = 0  # tables digested while pg_restore ran, not read back again here

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def rows_restored(self) -> int:
        return sum(t.restored_rows or 0 for t in self.tables)

    @property
    def rows_mismatched(self) -> int:
        return sum(t.rows_mismatched for t in self.tables)

    def summary(self) -> dict[str, Any]:
        """Small and JSON-safe, for XCom and the runs table; details go to the restore tables."""
        return {
            "tables": len(self.tables),
            "tables_failed": sum(1 for t in self.tables if t.failed_checks),
            "rows": self.rows_restored,
            "rows_mismatched": self.rows_mismatched,
            "expectations_evaluated": self.expectations.evaluated,
            "expectations_failed": self.expectations.failed,
            "amcheck": "ok"
            if self.amcheck.ran and not self.amcheck.problems
            else ("corrupt" if self.amcheck.problems else "not run"),
            "amcheck_note": self.amcheck.note[:300],
            "findings": [
                {"check": f.check, "table": f.table, "message": f.message[:500]} for f in self.findings[:20]
            ],
            "findings_total": len(self.findings),
            "unlisted_tables": list(self.unlisted_tables[:20]),
            "skipped_expectations": list(self.expectations.skipped[:20]),
            "digests_from_restore": self.digests_from_restore,
            **self.integrity.summary(),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


@dataclass(frozen=True)
class RestoredTable:
    schema: str
    table: str
    columns: tuple[str, ...]  # every column, in order
    copied_columns: tuple[str, ...]  # without generated columns: what pg_dump's COPY carries
    primary_key: tuple[str, ...]


def restored_catalog(dsn: str) -> dict[tuple[str, str], RestoredTable]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("""
            SELECT n.nspname, c.relname,
                   coalesce(array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attnum > 0), '{}'),
                   coalesce(array_agg(a.attname::text ORDER BY a.attnum)
                            FILTER (WHERE a.attnum > 0 AND a.attgenerated = ''), '{}'),
                   (SELECT array_agg(pa.attname::text ORDER BY k.ord)
                    FROM pg_constraint con
                    CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute pa ON pa.attrelid = con.conrelid AND pa.attnum = k.attnum
                    WHERE con.conrelid = c.oid AND con.contype = 'p')
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND NOT a.attisdropped
            WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg\\_toast%%'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                              AND d.objid = c.oid AND d.deptype = 'e')
            GROUP BY n.nspname, c.relname, c.oid""").fetchall()
    return {
        (s, t): RestoredTable(s, t, tuple(cols), tuple(copied), tuple(pk or ()))
        for s, t, cols, copied, pk in rows
    }


def _named(table: str, names: dict[tuple[str, str], str]) -> str:
    """The manifest's name of a schema.table from the catalog (the catalog's, if the manifest lacks it)."""
    return names.get(split_qualified(table), table)


def validate(
    dsn: str,
    manifest: Manifest,
    *,
    declared: tuple[DeclaredExpectation, ...] = (),
    digest_workers: int = 2,
    amcheck: bool = True,
    heapallindexed: bool = True,
    amcheck_jobs: int = 2,
    digests: dict[str, tuple[int, str]] | None = None,
) -> ValidationReport:
    """Validate the restored database of ``dsn`` against ``manifest``.

    ``digests`` (manifest table name -> rows, digest) were taken while pg_restore was still building
    indexes; only the other tables are read back here.
    """
    started = time.monotonic()
    catalog = restored_catalog(dsn)
    entries = {name: (split_qualified(name), entry) for name, entry in manifest.tables.items()}
    # Row counts come from the digests, columns from the catalog, key uniqueness from the primary key's
    # unique index (enforced when pg_restore built it, matched to every row by pg_amcheck): GX runs only
    # what nothing else checks, the declared expectations.
    wanted = {split_qualified(d.table) for d in declared}
    specs = [
        TableSpec(name=name, schema=key[0], table=key[1])
        for name, (key, _) in entries.items()
        if key in catalog and key in wanted
    ]
    found: dict[tuple[str, str], TableDigestResult | Exception] = {
        entries[name][0]: TableDigestResult(*entries[name][0], rows=rows, digest=digest)
        for name, (rows, digest) in (digests or {}).items()
        if name in entries
    }
    early = len(found)
    # GX first, in a thread: importing it is seconds of this process's CPU before its first query, the
    # longest chain; the integrity queries in a second thread (they wait on PostgreSQL, not on Python);
    # the digest processes and pg_amcheck fill the other core meanwhile.
    gx = ThreadPoolExecutor(max_workers=2, thread_name_prefix="validate")
    gx_run = gx.submit(run_expectations, dsn, specs, declared)
    integrity_run = gx.submit(check_integrity, dsn)
    checker = None
    try:
        checker = AmcheckRun(dsn, amcheck_jobs, heapallindexed) if amcheck else None
        # Niced: the digest workers take what CPU the GX chain leaves (measured: validation 20% shorter).
        # 10, not 19: on a worker busy with other jobs they still get a share instead of starving.
        with DigestPool(dsn, digest_workers, niceness=10) as pool:
            for key, _ in sorted(entries.values(), key=lambda e: -e[1].rows):
                if key in catalog and key not in found:
                    pool.submit(key[0], key[1], catalog[key].copied_columns)
            found.update(pool.results())
            digest_seconds = time.monotonic() - started
        expectations = gx_run.result()
        integrity = integrity_run.result()
    except BaseException:
        if checker is not None:
            checker.stop()
        raise
    finally:
        gx.shutdown(wait=True, cancel_futures=True)
    amcheck_result = (
        checker.result(index_tables(dsn))
        if checker is not None
        else AmcheckResult(ran=False, note="disabled in the restore config")
    )

    tables, findings = [], []
    broken_keys = [f for f in integrity.foreign_keys if not f.ok]
    behind = [q for q in integrity.sequences if not q.ok]
    names = {key: name for name, (key, _) in entries.items()}
    findings += [Finding("foreign_key", _named(f.table, names), f.describe()) for f in broken_keys]
    findings += [Finding("sequence", _named(q.table, names), q.describe()) for q in behind]
    for name, (key, entry) in entries.items():
        restored = catalog.get(key)
        evaluated, failed_expectations = expectations.per_table.get(name, (0, 0))
        if restored is None:
            findings.append(
                Finding(
                    "missing_table", name, f"table {name} is in the backup but not in the restored database"
                )
            )
            tables.append(
                TableResult(
                    name,
                    False,
                    entry.columns,
                    (),
                    entry.rows,
                    None,
                    entry.digest,
                    None,
                    failed_checks=("missing_table",),
                )
            )
            continue
        failed = []
        if entry.columns and restored.copied_columns != entry.columns:
            failed.append("columns")
            findings.append(
                Finding(
                    "columns",
                    name,
                    f"table {name} has columns {list(restored.copied_columns)}, "
                    f"the backup has {list(entry.columns)}",
                )
            )
        digest = found.get(key)
        rows = digest_value = None
        if isinstance(digest, TableDigestResult):
            rows, digest_value = digest.rows, digest.digest
            if rows != entry.rows:
                failed.append("row_count")
                findings.append(
                    Finding(
                        "row_count",
                        name,
                        f"table {name} has {rows} rows restored, the backup has {entry.rows}",
                    )
                )
            if digest_value != entry.digest and "columns" not in failed:
                failed.append("digest")
                findings.append(
                    Finding(
                        "digest",
                        name,
                        f"content digest of table {name} is {digest_value}, the "
                        f"backup's is {entry.digest}: restored values differ from the dumped ones"
                        + (" although the row counts match" if rows == entry.rows else ""),
                    )
                )
        elif isinstance(digest, Exception):
            failed.append("digest")
            findings.append(Finding("digest", name, f"table {name} could not be read back: {digest}"))
        table_keys = [f for f in broken_keys if split_qualified(f.table) == key]
        table_sequences = [q for q in behind if split_qualified(q.table) == key]
        if table_keys:
            failed.append("foreign_key")
        if table_sequences:
            failed.append("sequence")
        if failed_expectations:
            failed.append("expectations")
        tables.append(
            TableResult(
                name,
                True,
                entry.columns,
                restored.copied_columns,
                entry.rows,
                rows,
                entry.digest,
                digest_value,
                evaluated,
                failed_expectations,
                tuple(failed),
                sum(f.violations for f in table_keys),
                len(table_sequences),
            )
        )
    findings.extend(Finding("expectations", f.table, f.describe()) for f in expectations.failures)
    findings.extend(Finding("amcheck", None, f"pg_amcheck: {p}") for p in amcheck_result.problems)
    findings.sort(key=lambda f: CHECKS.index(f.check))
    listed = {key for key, _ in entries.values()}
    unlisted = tuple(sorted(f"{s}.{t}" for s, t in catalog if (s, t) not in listed))
    return ValidationReport(
        tables=tuple(tables),
        findings=tuple(findings),
        expectations=expectations,
        amcheck=amcheck_result,
        integrity=integrity,
        unlisted_tables=unlisted,
        digests_from_restore=early,
        timings={
            "validate": time.monotonic() - started,
            "gx": expectations.seconds,
            "gx_import": expectations.import_seconds,
            "digests": digest_seconds,
            "amcheck": amcheck_result.seconds,
            "integrity": integrity.seconds,
        },
    )
