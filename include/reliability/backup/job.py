"""The backup_verify job: for each database, dump + upload + verify (or verify an existing object),
write the manifest and the results-store rows, and return an :class:`~reliability.core.outcome.Outcome`.

Publishing (runs row, Pushgateway, Slack, backup-monitor.log) is :mod:`reliability.core.publish`'s job.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from reliability.backup.catalog import CatalogUnavailable, SourceCatalog, read_catalog
from reliability.backup.config import BackupConfig, ConfigError, DumpOptions
from reliability.backup.verdict import HistoryPoint, Verdict, judge
from reliability.backups.manifest import Manifest, ManifestError, TableEntry, manifest_key
from reliability.core.outcome import Metric, Outcome

log = logging.getLogger(__name__)

JOB = "backup_verify"
ACTION = "backup.verify"
_KEY_DATABASE = re.compile(r"^backups/([^/]+)/")


@dataclass(frozen=True)
class BackupRequest:
    """One database to back up and verify, or (``verify_only_key``) one existing object to verify."""

    database: str
    format: str = "custom"
    compression: int = 6
    jobs: int = 2
    verify_only_key: str | None = None
    interval_key: str = ""

    def __post_init__(self):
        DumpOptions(self.format, self.compression, self.jobs)  # validates

    @property
    def mode(self) -> str:
        return "verify" if self.verify_only_key else "backup"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BackupRequest:
        return cls(**data)


@dataclass(frozen=True)
class BackupTargets:
    """Where the job reads and writes; plain values, so tests and the CLI need no Airflow."""

    source_dsn: str | None = field(repr=False)  # connection strings hold passwords: never in a repr
    s3: Any
    bucket: str
    results_dsn: str | None = field(default=None, repr=False)
    workdir: str | None = None


@dataclass(frozen=True)
class BackupResult:
    request: BackupRequest
    verdict: Verdict
    started_at: datetime
    finished_at: datetime
    bucket: str
    dump_key: str
    uploaded: bool = False
    manifest_key: str | None = None
    format: str | None = None
    compression: int | None = None
    size_bytes: int = 0
    sha256: str | None = None
    tables: dict[str, TableEntry] = field(default_factory=dict)
    toc: dict[str, int] = field(default_factory=dict)
    server_version: str | None = None
    pg_dump_version: str | None = None
    pg_dump_exit: int | None = None
    dumped_at: datetime | None = None  # when the verified bytes were made
    newest_usable_at: datetime | None = None  # the newest verified/suspicious dump of this database
    warnings: tuple[str, ...] = ()
    store_error: str | None = None

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    def summary(self) -> dict[str, Any]:
        """JSON-safe and secret-free: the CLI's output and the outcome's summary."""
        return {
            "database": self.request.database,
            "mode": self.request.mode,
            "verdict": self.verdict.verdict,
            "reasons": list(self.verdict.reasons),
            "warnings": list(self.warnings),
            "bucket": self.bucket,
            "dump_key": self.dump_key,
            "manifest_key": self.manifest_key,
            "uploaded": self.uploaded,
            "format": self.format,
            "compression": self.compression,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "tables": len(self.tables),
            "rows": self.rows,
            "toc": self.toc,
            "server_version": self.server_version,
            "pg_dump_version": self.pg_dump_version,
            "pg_dump_exit": self.pg_dump_exit,
            "duration_seconds": (self.finished_at - self.started_at).total_seconds(),
            "dumped_at": self.dumped_at.isoformat() if self.dumped_at else None,
            **({"store_error": self.store_error} if self.store_error else {}),
        }


def plan_requests(
    config: BackupConfig,
    *,
    interval_key: str,
    databases: list[str] | None = None,
    format: str | None = None,
    compression: int | None = None,
    jobs: int | None = None,
    verify_only_key: str | None = None,
) -> list[BackupRequest]:
    """The requests of one run, from the trigger form's choices (``None`` = the configured default)."""
    names = list(databases or [d.name for d in config.databases])
    for name in names:
        config.database(name)  # raises ConfigError naming the configured ones
    options = {
        "format": format or config.dump.format,
        "compression": config.dump.compression if compression is None else int(compression),
        "jobs": jobs or config.dump.jobs,
        "interval_key": interval_key,
    }
    if verify_only_key:
        match = _KEY_DATABASE.match(verify_only_key)
        if match and match.group(1) in [d.name for d in config.databases]:
            names = [match.group(1)]
        elif len(names) != 1:
            raise ConfigError(
                f"verify-only key {verify_only_key!r} does not name its database (backups/<db>/...): "
                "choose exactly one database for it"
            )
        return [BackupRequest(database=names[0], verify_only_key=verify_only_key, **options)]
    return [BackupRequest(database=name, **options) for name in names]


def run(request: BackupRequest, config: BackupConfig, targets: BackupTargets) -> BackupResult:
    if request.verify_only_key:
        return run_verify_only(request, config, targets)
    return run_backup(request, config, targets)


def run_backup(request: BackupRequest, config: BackupConfig, targets: BackupTargets) -> BackupResult:
    """Dump ``request.database``, stream it to S3 while verifying it, write its manifest and store rows."""
    from reliability.backup.dump import dump_to_s3
    from reliability.backups.pgclient import ClientConnection

    started = datetime.now(UTC)
    db = config.database(request.database)
    options = DumpOptions(request.format, request.compression, request.jobs)
    key = config.dump_key(db.name, started, options.format)
    base = dict(
        request=request,
        started_at=started,
        bucket=targets.bucket,
        dump_key=key,
        format=options.format,
        compression=options.compression,
    )
    if not targets.source_dsn:
        raise ConfigError(f"no source connection for database {db.name}")
    try:
        catalog = read_catalog(targets.source_dsn, db.exclude_tables)
    except CatalogUnavailable as exc:
        result = BackupResult(verdict=Verdict("failed", (str(exc),)), finished_at=datetime.now(UTC), **base)
        return _store(result, targets, {})

    connection = ClientConnection.from_dsn(targets.source_dsn)
    dump = dump_to_s3(
        connection,
        options,
        s3=targets.s3,
        bucket=targets.bucket,
        key=key,
        part_size=config.part_size_bytes,
        exclude_tables=db.exclude_tables,
        workdir=targets.workdir,
    )
    history, warnings = _history(request, config, targets)
    report = dump.report
    verdict = judge(
        failures=dump.failures,
        report=report,
        size_bytes=dump.size_bytes,
        sha256=dump.sha256,
        thresholds=config.verify,
        catalog=catalog,
        dbname=catalog.dbname,
        history=history,
    )
    warnings += [f"pg_dump: {w}" for w in dump.pg_dump_warnings]
    warnings += [f"pg_restore: {w}" for w in (report.warnings if report else [])]
    tables = _table_entries(report) if report else {}
    result = BackupResult(
        verdict=verdict,
        finished_at=dump.finished_at or datetime.now(UTC),
        uploaded=dump.uploaded,
        size_bytes=dump.size_bytes,
        sha256=dump.sha256,
        tables=tables,
        toc=dict(report.toc) if report else {},
        server_version=catalog.server_version,
        pg_dump_version=report.pg_dump_version if report else None,
        pg_dump_exit=dump.pg_dump_exit,
        dumped_at=dump.finished_at if dump.uploaded else None,
        warnings=tuple(warnings),
        **base,
    )
    if dump.uploaded:
        result = _write_manifest(result, targets.s3, db.exclude_tables, report.dbname if report else None)
    return _store(result, targets, _estimates(report, catalog))


def run_verify_only(request: BackupRequest, config: BackupConfig, targets: BackupTargets) -> BackupResult:
    """Verify an existing object the same way, against its manifest when it has one (otherwise against the
    source's catalog). The manifest is the dump's write-once record: it is read, never rewritten."""
    from reliability.backup.verify import read_dump_object

    started = datetime.now(UTC)
    db = config.database(request.database)
    key = request.verify_only_key
    warnings: list[str] = []
    manifest = load_manifest(targets.s3, targets.bucket, key, warnings)
    dumped_at = datetime.fromisoformat(manifest.finished_at) if manifest else None
    catalog = None
    if manifest is None and targets.source_dsn:
        try:
            catalog = read_catalog(targets.source_dsn, db.exclude_tables)
        except CatalogUnavailable as exc:
            warnings.append(f"{exc}; the dump's tables were not compared with the source")
    read = read_dump_object(targets.s3, targets.bucket, key, targets.workdir)
    failures = [read.read_error] if read.read_error else []
    verdict = judge(
        failures=failures,
        report=read.report,
        size_bytes=read.size_bytes,
        sha256=read.sha256,
        thresholds=config.verify,
        catalog=catalog,
        dbname=catalog.dbname if catalog else None,
        manifest=manifest,
        content_problems=read.content_problems,
    )
    report = read.report
    if report:
        warnings += [f"pg_restore: {w}" for w in report.warnings]
    result = BackupResult(
        request=request,
        verdict=verdict,
        started_at=started,
        finished_at=datetime.now(UTC),
        bucket=targets.bucket,
        dump_key=key,
        uploaded=read.read_error is None or read.size_bytes > 0,
        format=read.format,
        compression=manifest.compression if manifest else None,
        size_bytes=read.size_bytes,
        sha256=read.sha256,
        tables=_table_entries(report) if report else {},
        toc=dict(report.toc) if report else {},
        server_version=report.server_version if report else None,
        pg_dump_version=report.pg_dump_version if report else None,
        dumped_at=dumped_at,
        warnings=tuple(warnings),
    )
    return _store(result, targets, _estimates(report, catalog))


def load_manifest(s3, bucket: str, dump_key: str, warnings: list[str]) -> Manifest | None:
    """The manifest next to ``dump_key``, or None (with the reason appended to ``warnings``)."""
    from reliability.backup.upload import describe_error

    url = f"s3://{bucket}/{manifest_key(dump_key)}"
    try:
        body = s3.get_object(Bucket=bucket, Key=manifest_key(dump_key))["Body"].read()
    except Exception as exc:
        code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
        warnings.append(
            f"no manifest {url}: compared with the source's catalog instead"
            if code in ("NoSuchKey", "404")
            else f"could not read the manifest {url}: {describe_error(exc)}"
        )
        return None
    try:
        return Manifest.from_json(body, url)
    except ManifestError as exc:
        warnings.append(f"{exc}; compared with the source's catalog instead")
        return None


def _history(
    request: BackupRequest, config: BackupConfig, targets: BackupTargets
) -> tuple[list[HistoryPoint], list[str]]:
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


def _table_entries(report) -> dict[str, TableEntry]:
    return {
        name: TableEntry(rows=t.digest.rows, digest=t.digest.hexdigest, columns=t.columns)
        for name, t in report.tables.items()
    }


def _estimates(report, catalog: SourceCatalog | None) -> dict[str, int]:
    """The source's row estimate of each dumped table, by the name the manifest uses."""
    if report is None or catalog is None:
        return {}
    by_name = {(t.schema, t.name): t.reltuples for t in catalog.tables}
    return {
        name: by_name[(t.schema, t.name)]
        for name, t in report.tables.items()
        if (t.schema, t.name) in by_name
    }


def _write_manifest(result: BackupResult, s3, exclude_tables, archive_dbname: str | None) -> BackupResult:
    """Written only now: the object is complete and was read back, so it describes a finished dump."""
    from reliability.backup.upload import describe_error

    manifest = Manifest(
        database=result.request.database,
        dump_key=result.dump_key,
        format=result.format,
        compression=result.compression,
        server_version=result.server_version or "",
        pg_dump_version=result.pg_dump_version or "",
        started_at=result.started_at.isoformat(),
        finished_at=result.finished_at.isoformat(),
        size_bytes=result.size_bytes,
        sha256=result.sha256,
        tables=result.tables,
        toc=result.toc,
        verdict=result.verdict.verdict,
        reasons=result.verdict.reasons,
        pg_dump_warnings=tuple(
            w.removeprefix("pg_dump: ") for w in result.warnings if w.startswith("pg_dump: ")
        ),
        extra={
            "archive_dbname": archive_dbname,
            "exclude_tables": list(exclude_tables),
            "interval_key": result.request.interval_key,
            "job": JOB,
        },
    )
    mkey = manifest_key(result.dump_key)
    try:
        s3.put_object(
            Bucket=result.bucket, Key=mkey, Body=manifest.to_json().encode(), ContentType="application/json"
        )
    except Exception as exc:
        reason = (
            f"the dump was uploaded but its manifest s3://{result.bucket}/{mkey} could not be written "
            f"({describe_error(exc)}): checksum validation and the restore test cannot use it"
        )
        return replace(result, verdict=Verdict("failed", (*result.verdict.reasons, reason)))
    return replace(result, manifest_key=mkey)


def _store(result: BackupResult, targets: BackupTargets, estimates: dict[str, int]) -> BackupResult:
    """Write the detail rows and look up the newest usable dump (for the backup age)."""
    newest = result.dumped_at if result.verdict.usable and result.request.mode == "backup" else None
    if not targets.results_dsn:
        return replace(result, newest_usable_at=newest)
    from reliability.backups.dumps import DumpRecord, TableRecord, latest_dump, record_dump
    from reliability.core.store import connect

    record = DumpRecord(
        interval_key=result.request.interval_key,
        database=result.request.database,
        mode=result.request.mode,
        verdict=result.verdict.verdict,
        bucket=result.bucket,
        dump_key=result.dump_key,
        uploaded=result.uploaded,
        started_at=result.started_at,
        finished_at=result.finished_at,
        reasons=result.verdict.reasons,
        warnings=result.warnings,
        manifest_key=result.manifest_key,
        format=result.format,
        compression=result.compression,
        dumped_at=result.dumped_at,
        size_bytes=result.size_bytes,
        sha256=result.sha256,
        tables=len(result.tables),
        rows=result.rows,
        server_version=result.server_version,
        pg_dump_version=result.pg_dump_version,
        pg_dump_exit=result.pg_dump_exit,
        toc=result.toc,
    )
    try:
        with connect(targets.results_dsn, connect_timeout=30) as conn:
            record_dump(
                conn,
                record,
                [
                    TableRecord(name, t.rows, t.digest, t.columns, estimates.get(name))
                    for name, t in result.tables.items()
                ],
            )
            stored = latest_dump(conn, result.request.database, verdicts=("verified", "suspicious"))
    except Exception as exc:
        log.error("backup result of %s not stored: %s", result.request.database, type(exc).__name__)
        return replace(
            result,
            newest_usable_at=newest,
            store_error=f"the results store could not be written ({type(exc).__name__}: {exc})",
        )
    if stored and (newest is None or stored.dumped_at > newest):
        newest = stored.dumped_at
    return replace(result, newest_usable_at=newest)


def to_outcome(result: BackupResult, now: datetime | None = None) -> Outcome:
    now = now or datetime.now(UTC)
    db, verdict = result.request.database, result.verdict.verdict
    status = {"verified": "success", "suspicious": "warning"}.get(verdict, "failed")
    what = "Backup" if result.request.mode == "backup" else "Existing backup"
    if verdict == "verified":
        headline = (
            f"{what} of {db} verified: {len(result.tables)} tables, {result.rows:,} rows, "
            f"{_size(result.size_bytes)}"
        )
    else:
        first = result.verdict.reasons[0] if result.verdict.reasons else "no reason given"
        headline = f"{what} of {db} {verdict}: {first}"
    if result.store_error:
        headline += " (not stored in the results store)"
    labels = {}
    metrics = [
        Metric("backup_size_bytes", float(result.size_bytes), labels, "Size of the dump object"),
        Metric(
            "backup_duration_seconds",
            (result.finished_at - result.started_at).total_seconds(),
            labels,
            "Wall time of dump, upload and verification",
        ),
        Metric(
            "backup_verified",
            1.0 if result.verdict.usable else 0.0,
            labels,
            "1 if the dump was read back completely and matches the source (verified or suspicious)",
        ),
        Metric(
            "backup_suspicious",
            1.0 if verdict == "suspicious" else 0.0,
            labels,
            "1 if the dump is readable but looks wrong (zero-row large table, size drop)",
        ),
        Metric("backup_tables", float(len(result.tables)), labels, "Tables with data in the dump"),
        Metric("backup_rows", float(result.rows), labels, "Rows in the dump"),
    ]
    if result.newest_usable_at is not None:
        metrics.append(
            Metric(
                "backup_age_seconds",
                max(0.0, (now - result.newest_usable_at).total_seconds()),
                labels,
                "Age of the newest verified dump",
            )
        )
    facts = [
        ("Verdict", verdict),
        ("Size", _size(result.size_bytes)),
        ("Tables", str(len(result.tables))),
        ("Rows", f"{result.rows:,}"),
        ("Duration", f"{(result.finished_at - result.started_at).total_seconds():.0f} s"),
        ("Object", f"s3://{result.bucket}/{result.dump_key}"),
    ]
    if result.verdict.reasons:
        facts.append(("Why", "; ".join(result.verdict.reasons)[:500]))
    return Outcome(
        job=JOB,
        subject={"database": db},
        status=status,
        started_at=result.started_at,
        finished_at=result.finished_at,
        headline=headline[:300],
        summary=result.summary(),
        facts=tuple(facts),
        metrics=tuple(metrics),
        alert=verdict != "verified" or bool(result.store_error),
        action=ACTION,
        log_fields={
            "verdict": verdict,
            "dumpKey": result.dump_key,
            "sizeBytes": result.size_bytes,
            "sha256": result.sha256,
            "mode": result.request.mode,
        },
    )


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"
