"""The backup_verify job: for each database, dump + upload + verify (or verify an existing object),
write the manifest and the results-store rows, and return an :class:`~reliability.core.outcome.Outcome`.

Publishing (runs row, Pushgateway, Slack, backup-monitor.log) is :mod:`reliability.core.publish`'s job.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

from reliability.backup.canary import run_canary
from reliability.backup.catalog import CatalogUnavailable, SourceCatalog, read_catalog
from reliability.backup.config import BackupConfig, ConfigError, DumpOptions
from reliability.backup.manifests import load_manifest, write_manifest
from reliability.backup.models import BackupRequest, BackupResult, BackupTargets, RequestError
from reliability.backup.outcome import to_outcome
from reliability.backup.store import size_history, store_result
from reliability.backup.verdict import Verdict, judge, judge_read
from reliability.backups.manifest import TableEntry
from reliability.core.outcome import Outcome


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
        database = verify_only_database(config, verify_only_key)
        return [BackupRequest(database=database, verify_only_key=verify_only_key, **options)]
    return [BackupRequest(database=name, **options) for name in names]


def verify_only_database(config: BackupConfig, key: str) -> str:
    """The configured database whose prefix ``key`` is under; :class:`RequestError` otherwise."""
    segments = key.split("/")
    if key != key.strip() or any(s in ("", ".", "..") for s in segments) or any(ord(c) < 32 for c in key):
        raise RequestError(
            f"verify-only key {key!r} is not an S3 key of a dump (empty, '.' or '..' path segments, "
            "surrounding blanks or control characters)"
        )
    database = config.key_database(key)
    if database is None or database not in [d.name for d in config.databases]:
        prefixes = ", ".join(config.database_prefix(d.name) for d in config.databases)
        raise RequestError(
            f"verify-only key {key!r} is not under a configured database's prefix ({prefixes}): "
            "nothing was verified or recorded"
        )
    return database


def object_exists(s3, bucket: str, key: str) -> bool | None:
    """True or False from S3's HeadObject; None when S3 did not say (access denied, S3 down)."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except Exception as exc:
        code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
        return False if code in ("NoSuchKey", "404", "NotFound") else None
    return True


def check_object_exists(s3, bucket: str, key: str) -> None:
    """:class:`RequestError` when ``key`` is not an object in ``bucket`` (so a typo is not a failed backup).
    Any other error (access denied, S3 down) is left to the read, which reports it as the verdict's reason."""
    if object_exists(s3, bucket, key) is False:
        raise RequestError(
            f"verify-only key s3://{bucket}/{key} does not exist: nothing was verified or recorded"
        )


def _new_key(config: BackupConfig, database: str, fmt: str, targets: BackupTargets) -> tuple[datetime, str]:
    """The start time and key of a new dump, under a key no object has yet: keys are stamped to the second,
    and a rerun within the same second must not overwrite the dump (and manifest) it would replace."""
    while True:
        started = datetime.now(UTC)
        key = config.dump_key(database, started, fmt)
        if not object_exists(targets.s3, targets.bucket, key):
            return started, key
        time.sleep(1 - started.microsecond / 1e6)


def run(request: BackupRequest, config: BackupConfig, targets: BackupTargets) -> Outcome:
    """One request, start to finish: the outcome to publish."""
    return to_outcome(execute(request, config, targets))


def execute(request: BackupRequest, config: BackupConfig, targets: BackupTargets) -> BackupResult:
    """One request: a new backup, or (``verify_only_key``) a check of an existing object."""
    if request.verify_only_key:
        return run_verify_only(request, config, targets)
    return run_backup(request, config, targets)


def run_backup(request: BackupRequest, config: BackupConfig, targets: BackupTargets) -> BackupResult:
    """Dump ``request.database``, stream it to S3 while verifying it, write its manifest and store rows."""
    from reliability.backup.dump import dump_to_s3
    from reliability.backups.pgclient import ClientConnection

    db = config.database(request.database)
    options = DumpOptions(request.format, request.compression, request.jobs)
    started, key = _new_key(config, db.name, options.format, targets)
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
        return store_result(result, targets, {})

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
    history, warnings = size_history(request, config, targets)
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
    result = BackupResult(
        verdict=verdict,
        finished_at=dump.finished_at or datetime.now(UTC),
        uploaded=dump.uploaded,
        size_bytes=dump.size_bytes,
        sha256=dump.sha256,
        crc64nvme=dump.crc64nvme,
        tables=_table_entries(report) if report else {},
        toc=dict(report.toc) if report else {},
        server_version=catalog.server_version,
        pg_dump_version=report.pg_dump_version if report else None,
        pg_dump_exit=dump.pg_dump_exit,
        dumped_at=dump.finished_at if dump.uploaded else None,
        warnings=tuple(warnings),
        **base,
    )
    if dump.uploaded:
        result = write_manifest(result, targets.s3, db.exclude_tables, report.dbname if report else None)
        canary = run_canary(targets.s3, targets.bucket, key, dump.size_bytes, config.verify, targets.workdir)
        result = replace(result, canary=canary)
    return store_result(result, targets, _estimates(report, catalog))


def run_verify_only(request: BackupRequest, config: BackupConfig, targets: BackupTargets) -> BackupResult:
    """Verify an existing object the same way, against its manifest when it has one (otherwise against the
    source's catalog). The manifest is the dump's write-once record: it is read, never rewritten."""
    from reliability.backup.verify import read_dump_object

    started = datetime.now(UTC)
    db = config.database(request.database)
    key = request.verify_only_key
    if verify_only_database(config, key) != db.name:
        raise RequestError(f"verify-only key {key!r} is not a dump of database {db.name!r}")
    check_object_exists(targets.s3, targets.bucket, key)
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
    verdict = judge_read(
        read,
        thresholds=config.verify,
        catalog=catalog,
        dbname=catalog.dbname if catalog else None,
        manifest=manifest,
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
    return store_result(result, targets, _estimates(report, catalog))


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
