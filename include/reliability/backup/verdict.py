"""The verdict on one dump, from what reading it found: pure rules, no I/O.

- ``failed``: the backup could not be made or read (pg_dump exited non-zero, the upload or the download
  failed, the manifest could not be written): nothing usable exists.
- ``corrupt``: bytes exist but cannot be trusted: pg_restore could not read every data block, the dump
  is empty or not a dump, it lacks tables of the source (or is of another database), or it differs from
  what its manifest recorded.
- ``suspicious``: readable and complete, but something looks wrong: a table the source's statistics
  call large dumped zero rows, or the dump is much smaller (bytes or rows) than the recent ones.
- ``verified``: none of the above.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from reliability.backup.catalog import SourceCatalog
from reliability.backup.config import VerifyThresholds
from reliability.backup.sqlstream import ArchiveReport
from reliability.backups.dumps import HistoryPoint
from reliability.backups.manifest import Manifest

_LIST_MAX = 5


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reasons: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        """Readable and complete (verified or suspicious): a backup one could restore."""
        return self.verdict in ("verified", "suspicious")


def _names(items) -> str:
    items = sorted(items)
    shown = ", ".join(items[:_LIST_MAX])
    return shown + (f" (and {len(items) - _LIST_MAX} more)" if len(items) > _LIST_MAX else "")


def catalog_problems(report: ArchiveReport, catalog: SourceCatalog | None, dbname: str | None) -> list[str]:
    """Does the dump hold what the source holds (and is it the source's dump at all)?"""
    problems = []
    if dbname and report.dbname and report.dbname != dbname:
        problems.append(f"the dump is of database {report.dbname!r}, not {dbname!r}")
    if catalog is None:
        return problems
    missing = [t.label for t in catalog.tables if (t.schema, t.name) not in report.toc_tables]
    if missing:
        problems.append(
            f"the dump lacks {len(missing)} of the source's {len(catalog.tables)} tables: {_names(missing)}"
        )
    data = set(report.data_entries)
    without_data = [
        t.label
        for t in catalog.tables
        if t.kind == "r" and (t.schema, t.name) in report.toc_tables and (t.schema, t.name) not in data
    ]
    if without_data:
        problems.append(f"the dump has no data for {len(without_data)} table(s): {_names(without_data)}")
    return problems


def manifest_problems(
    report: ArchiveReport, manifest: Manifest, sha256: str | None, size_bytes: int
) -> list[str]:
    """Is the object still what its manifest recorded when it was written?"""
    problems = []
    if sha256 and sha256 != manifest.sha256:
        problems.append(
            f"its SHA-256 {sha256[:16]}... differs from the manifest's {manifest.sha256[:16]}...: "
            "the object changed after it was written"
        )
    if size_bytes != manifest.size_bytes:
        problems.append(f"it is {size_bytes} bytes, the manifest recorded {manifest.size_bytes}")
    missing, rows, digests = [], [], []
    for name, entry in manifest.tables.items():
        table = report.tables.get(name)
        if table is None:
            missing.append(name)
        elif table.digest.rows != entry.rows:
            rows.append(f"{name} ({table.digest.rows} rows, manifest {entry.rows})")
        elif table.digest.hexdigest != entry.digest:
            digests.append(name)
    if missing:
        problems.append(f"tables in the manifest but not in the dump: {_names(missing)}")
    if rows:
        problems.append(f"row counts differ from the manifest: {_names(rows)}")
    if digests:
        problems.append(f"table contents differ from the manifest's digests: {_names(digests)}")
    return problems


def suspicions(
    report: ArchiveReport,
    catalog: SourceCatalog | None,
    history: tuple[HistoryPoint, ...] | list,
    size_bytes: int,
    thresholds: VerifyThresholds,
) -> list[str]:
    found = []
    if catalog is not None:
        by_name = {(t.schema, t.name): t for t in report.tables.values()}
        empty = [
            f"{t.label} (estimated {t.reltuples:,} rows)"
            for t in catalog.tables
            if t.kind == "r"
            and t.reltuples >= thresholds.large_table_min_rows
            and (t.schema, t.name) in by_name
            and by_name[(t.schema, t.name)].digest.rows == 0
        ]
        if empty:
            found.append(f"large table(s) dumped zero rows: {_names(empty)}")
    if history:
        usual_size = statistics.median(h.size_bytes for h in history)
        if usual_size > 0 and size_bytes < usual_size * (1 - thresholds.size_drop_ratio):
            found.append(
                f"the dump is {size_bytes:,} bytes, {1 - size_bytes / usual_size:.0%} smaller than the "
                f"median of the last {len(history)} verified dump(s) ({usual_size:,.0f} bytes)"
            )
        usual_rows = statistics.median(h.rows for h in history)
        if usual_rows > 0 and report.rows < usual_rows * (1 - thresholds.rows_drop_ratio):
            found.append(
                f"the dump holds {report.rows:,} rows, {1 - report.rows / usual_rows:.0%} fewer than the "
                f"median of the last {len(history)} verified dump(s) ({usual_rows:,.0f})"
            )
    return found


def judge(
    *,
    failures: list[str],
    report: ArchiveReport | None,
    size_bytes: int,
    sha256: str | None,
    thresholds: VerifyThresholds,
    catalog: SourceCatalog | None = None,
    dbname: str | None = None,
    manifest: Manifest | None = None,
    history: tuple[HistoryPoint, ...] | list = (),
    content_problems: list[str] = (),
) -> Verdict:
    """``failures``: why the bytes could not be produced or read; ``content_problems``: what was wrong
    with them before pg_restore could even start (empty, not a dump)."""
    if failures:
        return Verdict("failed", tuple(failures))
    corrupt = list(content_problems)
    if report is None and not corrupt:
        corrupt.append("the dump was not read")
    if report is not None:
        integrity = report.problems()
        corrupt += integrity
        # A dump that could not be read to the end would also "lack" tables; say only what failed first.
        if not integrity:
            corrupt += catalog_problems(report, catalog, dbname)
            if manifest is not None:
                corrupt += manifest_problems(report, manifest, sha256, size_bytes)
    if corrupt:
        return Verdict("corrupt", tuple(corrupt))
    suspicious = suspicions(report, catalog, history, size_bytes, thresholds)
    if suspicious:
        return Verdict("suspicious", tuple(suspicious))
    return Verdict("verified")


def judge_read(
    read,
    *,
    thresholds: VerifyThresholds,
    catalog: SourceCatalog | None = None,
    dbname: str | None = None,
    manifest: Manifest | None = None,
) -> Verdict:
    """The verdict on one read of existing bytes (:class:`reliability.backup.verify.ReadResult`): verify-only
    runs, the CLI and the canary."""
    return judge(
        failures=[read.read_error] if read.read_error else [],
        report=read.report,
        size_bytes=read.size_bytes,
        sha256=read.sha256,
        thresholds=thresholds,
        catalog=catalog,
        dbname=dbname,
        manifest=manifest,
        content_problems=read.content_problems,
    )
