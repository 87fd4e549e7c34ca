"""The restore test, step by step, and the :class:`Outcome` it ends in.

Each step takes the run's :class:`RunState` and returns it extended; the DAG runs one step per task and
passes the state through XCom (it is small, JSON-safe and holds no secret: connection strings are
rebuilt from :class:`Settings` in every task). A failed check is recorded in the state, not raised: the
later steps see it and do nothing, the teardown drops the scratch database, and the last step turns the
state into a failed outcome naming the step, the check and the table. Only crashes (a server down, a
bug) raise, so Airflow retries them.

:func:`run_restore_test` runs all steps in one call, for tests, the benchmark and a command line.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reliability.backups.names import split_qualified
from reliability.core.outcome import Metric, Outcome
from reliability.restore.choose import ChosenBackup, choose_backup, read_manifest
from reliability.restore.config import ConfigError, RestoreConfig, load_expectations
from reliability.restore.digest import DigestPool, TableDigestResult
from reliability.restore.download import download_backup, remove_download
from reliability.restore.errors import CheckFailed, NoVerifiedBackup
from reliability.restore.restore import run_pg_restore
from reliability.restore.scratch import (
    SweepReport,
    check_scratch_target,
    create_scratch_database,
    drop_scratch_database,
    scratch_name,
    sweep,
    user_relations,
)
from reliability.restore.validate import validate

log = logging.getLogger(__name__)
JOB = "restore_test"
ACTION = "restore.test"
STEPS = ("choose_backup", "download_and_check", "create_scratch_database", "restore", "validate")


@dataclass(frozen=True)
class Settings:
    """Configuration plus the resolved connections; the connection strings never leave this object."""

    config: RestoreConfig
    scratch_dsn: str = field(repr=False)
    source_dsn: str = field(repr=False)
    s3: Any = field(repr=False)
    bucket: str = ""
    results_dsn: str | None = field(default=None, repr=False)

    @property
    def download_dir(self) -> Path:
        return Path(self.config.download_dir or Path(tempfile.gettempdir()) / "restore_test")

    def scratch_target(self, name: str) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(self.scratch_dsn, dbname=name)


@dataclass(frozen=True)
class Failure:
    step: str
    check: str
    message: str
    table: str | None = None

    @classmethod
    def from_error(cls, exc: CheckFailed, step: str) -> Failure:
        return cls(step=step, check=exc.check, message=exc.message, table=exc.table)


@dataclass(frozen=True)
class RunState:
    database: str
    interval_key: str
    started_at: datetime
    scratch_name: str
    keep_on_failure: bool = False
    jobs: int = 2
    backup: ChosenBackup | None = None
    backup_age_seconds: float | None = None
    download_path: str | None = None
    download_cleanup: str | None = None
    scratch_created: bool = False
    scratch_dropped: bool | None = None  # None: not decided (no teardown ran, or it crashed)
    digests: dict[str, list] = field(default_factory=dict)  # table -> [rows, digest], read during the restore
    validation: dict[str, Any] | None = None  # ValidationReport.summary()
    timings: dict[str, float] = field(default_factory=dict)
    completed: tuple[str, ...] = ()
    failure: Failure | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["backup"] = self.backup.to_dict() if self.backup else None
        data["completed"] = list(self.completed)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunState:
        return cls(
            **{
                **data,
                "started_at": datetime.fromisoformat(data["started_at"]),
                "backup": ChosenBackup.from_dict(data["backup"]) if data.get("backup") else None,
                "failure": Failure(**data["failure"]) if data.get("failure") else None,
                "completed": tuple(data.get("completed", ())),
            }
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _step(state: RunState, step: str, work: Callable[[], dict[str, Any]]) -> RunState:
    """Run ``work`` unless an earlier step failed; record its time, its updates or its failed check."""
    if state.failure is not None:
        return state
    started = time.monotonic()
    try:
        updates = work()
    except CheckFailed as exc:
        log.error("restore test of %s: %s failed (%s): %s", state.database, step, exc.check, exc.message)
        return replace(
            state,
            failure=Failure.from_error(exc, step),
            timings={**state.timings, step: time.monotonic() - started},
        )
    timings = {**state.timings, **updates.pop("timings", {}), step: time.monotonic() - started}
    failure = updates.pop("failure", None)
    if failure is not None:
        # A finding that comes with facts worth keeping (the validation summary, the too-old backup).
        log.error(
            "restore test of %s: %s failed (%s): %s", state.database, step, failure.check, failure.message
        )
        return replace(state, **updates, timings=timings, failure=failure)
    return replace(state, **updates, timings=timings, completed=state.completed + (step,))


def _store_candidates(settings: Settings, database: str) -> list[str]:
    """Verified dumps of ``database`` the backup job recorded, newest first (empty: fall back to S3)."""
    if not settings.results_dsn:
        return []
    from reliability.core.store import connect

    with connect(settings.results_dsn) as conn:
        if conn.execute("SELECT to_regclass('reliability.backup_dumps')").fetchone()[0] is None:
            return []
        # backup_verify's rows (002_backup.sql): new dumps whose upload completed and whose manifest exists.
        rows = conn.execute(
            """SELECT dump_key FROM reliability.backup_dumps
                               WHERE database = %s AND bucket = %s AND mode = 'backup' AND uploaded
                                 AND verdict = 'verified' AND manifest_key IS NOT NULL
                               ORDER BY dumped_at DESC NULLS LAST, finished_at DESC LIMIT 20""",
            (database, settings.bucket),
        ).fetchall()
    return [r[0] for r in rows]


def choose_step(
    settings: Settings,
    database: str,
    interval_key: str,
    run_at: datetime,
    *,
    backup_key: str | None = None,
    keep_on_failure: bool | None = None,
    jobs: int | None = None,
    now: datetime | None = None,
) -> RunState:
    """Start the run: safety check of the scratch target, then the backup to restore."""
    config = settings.config
    config.database(database)
    now = now or _now()
    state = RunState(
        database=database,
        interval_key=interval_key,
        started_at=now,
        scratch_name=scratch_name(config.scratch_prefix, database, run_at),
        keep_on_failure=config.keep_on_failure if keep_on_failure is None else keep_on_failure,
        jobs=jobs or config.jobs,
    )

    def work() -> dict[str, Any]:
        # First of all: a run that could touch the source database stops before downloading anything.
        check_scratch_target(
            settings.scratch_dsn, settings.source_dsn, state.scratch_name, config.scratch_prefix
        )
        try:
            load_expectations(config.expectations_path)  # a broken file fails now, not after the restore
        except ConfigError as exc:
            raise CheckFailed(str(exc), check="expectations_config") from None
        try:
            chosen = choose_backup(
                settings.s3,
                settings.bucket,
                database,
                config.prefix_for(database),
                now=now,
                rpo_seconds=config.rpo_target(database),
                requested_key=backup_key,
                store_candidates=() if backup_key else _store_candidates(settings, database),
            )
        except NoVerifiedBackup as exc:
            # When the newest verified backup exists but is too old, its age is the RPO breach to report.
            return {
                "failure": Failure.from_error(exc, "choose_backup"),
                "backup": exc.newest,
                "backup_age_seconds": exc.age_seconds,
            }
        return {"backup": chosen, "backup_age_seconds": chosen.age_seconds(now)}

    return _step(state, "choose_backup", work)


def download_step(settings: Settings, state: RunState) -> RunState:
    """Stream the backup down and check its size and SHA-256 against the manifest."""

    def work() -> dict[str, Any]:
        got = download_backup(
            settings.s3, settings.bucket, state.backup, settings.download_dir, state.scratch_name
        )
        return {"download_path": got.path, "download_cleanup": got.cleanup}

    return _step(state, "download_and_check", work)


def create_step(settings: Settings, state: RunState) -> RunState:
    def work() -> dict[str, Any]:
        create_scratch_database(
            settings.scratch_dsn, settings.source_dsn, state.scratch_name, settings.config.scratch_prefix
        )
        return {"scratch_created": True}

    return _step(state, "create_scratch_database", work)


def restore_step(settings: Settings, state: RunState) -> RunState:
    """pg_restore into the scratch database (downloading again if this worker lacks the file).

    Each table is read back and digested as soon as its data has landed, while pg_restore goes on with
    the indexes of the others: the validation's longest part, overlapped with the restore. The digest
    workers run niced, so the restore (the RTO figure) keeps the CPU it needs.
    """
    config = settings.config

    def work() -> dict[str, Any]:
        updates: dict[str, Any] = {"timings": {}}
        path = state.download_path
        if not path or not Path(path).exists():
            # Tasks may run on different workers: the checked download is then repeated here, checked again.
            got = download_backup(
                settings.s3, settings.bucket, state.backup, settings.download_dir, state.scratch_name
            )
            path = got.path
            updates.update(download_path=got.path, download_cleanup=got.cleanup)
            updates["timings"]["download_again"] = got.seconds
        target = settings.scratch_target(state.scratch_name)
        if leftovers := user_relations(target):
            # A retry after a crash half-way (a killed worker, a lost connection): pg_restore --exit-on-error
            # would stop at the first object that exists and blame the backup. Start from an empty database.
            log.warning(
                "scratch database %s holds %d relations of an earlier attempt: recreating it",
                state.scratch_name,
                leftovers,
            )
            create_scratch_database(
                settings.scratch_dsn, settings.source_dsn, state.scratch_name, config.scratch_prefix
            )
        if not config.digest_during_restore:
            updates["timings"]["pg_restore"] = run_pg_restore(path, target, state.jobs).seconds
            return updates
        manifest = read_manifest(settings.s3, settings.bucket, state.backup.key)
        expected = {
            split_qualified(name): (name, entry.columns)
            for name, entry in manifest.tables.items()
            if entry.columns
        }
        with DigestPool(target, config.digest_workers, niceness=10) as pool:

            def loaded(schema: str, table: str) -> None:
                if (schema, table) in expected:
                    pool.submit(schema, table, expected[(schema, table)][1])

            result = run_pg_restore(path, target, state.jobs, on_table_loaded=loaded)
            waited = time.monotonic()
            digests = pool.results()
        # A table whose early read failed (e.g. a column the manifest names is missing) is read again,
        # and judged, by the validation.
        updates["digests"] = {
            expected[key][0]: [d.rows, d.digest]
            for key, d in digests.items()
            if isinstance(d, TableDigestResult)
        }
        updates["timings"].update(pg_restore=result.seconds, digest_after_restore=time.monotonic() - waited)
        return updates

    return _step(state, "restore", work)


def validate_step(settings: Settings, state: RunState) -> RunState:
    """Compare the restored database with the manifest; store the per-table details and GX results."""
    config = settings.config

    def work() -> dict[str, Any]:
        manifest = read_manifest(settings.s3, settings.bucket, state.backup.key)
        try:
            declared = load_expectations(config.expectations_path)
            report = validate(
                settings.scratch_target(state.scratch_name),
                manifest,
                declared=declared,
                digest_workers=config.digest_workers,
                amcheck=config.amcheck,
                heapallindexed=config.heapallindexed,
                amcheck_jobs=state.jobs,
                digests={name: (rows, digest) for name, (rows, digest) in state.digests.items()},
            )
        except ConfigError as exc:
            # A broken expectations file is the operator's to fix, not a crash to retry.
            raise CheckFailed(str(exc), check="expectations_config") from None
        if settings.results_dsn:
            from reliability.core.store import connect
            from reliability.restore.store import save_validation

            with connect(settings.results_dsn) as conn:
                save_validation(conn, state.interval_key, state.database, report)
        summary = report.summary()
        timings = {k: v for k, v in report.timings.items() if k != "validate"}
        if report.findings:
            first = report.findings[0]
            more = f" (and {len(report.findings) - 1} more finding(s))" if len(report.findings) > 1 else ""
            return {
                "validation": summary,
                "timings": timings,
                "failure": Failure("validate", first.check, first.message + more, first.table),
            }
        return {"validation": summary, "timings": timings}

    return _step(state, "validate", work)


def drop_step(settings: Settings, created: RunState | None, finished: RunState | None) -> RunState | None:
    """Teardown: drop the scratch database whatever happened, unless a failed run asked to keep it.

    ``finished`` is the state after validation; ``None`` means a step crashed, which counts as a failure.
    The downloaded dump is deleted either way (it can be downloaded again).
    """
    state = finished or created
    if state is None:
        return None
    remove_download(state.download_cleanup)
    if created is None or not created.scratch_created:
        return state
    failed = finished is None or finished.failure is not None
    if failed and state.keep_on_failure:
        log.warning(
            "keeping scratch database %s for debugging (the sweeper drops it after %s h)",
            state.scratch_name,
            settings.config.sweep_after_hours,
        )
        return replace(state, scratch_dropped=False)
    drop_scratch_database(settings.scratch_dsn, state.scratch_name, settings.config.scratch_prefix)
    return replace(state, scratch_dropped=True)


def sweep_step(settings: Settings, now: datetime | None = None) -> SweepReport:
    """Drop leftover scratch databases and downloads older than the configured age."""
    return sweep(
        settings.scratch_dsn,
        settings.config.scratch_prefix,
        timedelta(hours=settings.config.sweep_after_hours),
        now or _now(),
        settings.download_dir,
    )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def final_state(steps: list[tuple[str, RunState | None]], dropped: RunState | None) -> RunState | None:
    """The run's state as the last step that reported sees it; a step that never reported crashed."""
    final, crashed = None, None
    for name, state in steps:
        if state is not None:
            final, crashed = state, None
        elif final is not None and crashed is None and final.failure is None:
            crashed = name
    if final is None:
        return None
    if crashed is not None:
        final = replace(
            final,
            failure=Failure(
                crashed,
                "crashed",
                f"task {crashed} ended without a result (an error or a timeout, not a check); see its log",
            ),
        )
    if dropped is not None:
        final = replace(final, scratch_dropped=dropped.scratch_dropped)
    return final


@dataclass(frozen=True)
class Figures:
    """The run's RTO and RPO against their targets, and what makes a passed test a warning."""

    rto: float | None  # download + create + pg_restore; None when nothing was restored
    rto_target: float
    rpo_target: float
    rto_breached: bool
    rpo_breached: bool
    warnings: tuple[str, ...]

    @classmethod
    def of(cls, state: RunState, config: RestoreConfig) -> Figures:
        t = state.timings
        rto_target, rpo_target = config.rto_target(state.database), config.rpo_target(state.database)
        # The restore step's own time includes waiting for the last digests: validation, not recovery.
        rto = (
            (
                t.get("download_and_check", 0)
                + t.get("create_scratch_database", 0)
                + t.get("download_again", 0)
                + t.get("pg_restore", 0)
            )
            if "restore" in state.completed
            else None
        )
        age = state.backup_age_seconds
        rto_breached = rto is not None and rto > rto_target
        rpo_breached = age is not None and age > rpo_target
        warnings = []
        if rto_breached:
            warnings.append(f"RTO {_duration(rto)} exceeds the target of {_duration(rto_target)}")
        if rpo_breached:
            warnings.append(
                f"the backup was {_duration(age)} old, over the RPO target of {_duration(rpo_target)}"
            )
        validation = state.validation or {}
        if validation.get("amcheck") == "not run" and config.amcheck:
            warnings.append(f"pg_amcheck did not run: {validation.get('amcheck_note', '')}")
        if state.scratch_created and state.scratch_dropped is None:
            warnings.append(
                f"scratch database {state.scratch_name} was not dropped (teardown failed); "
                "the sweeper will retry"
            )
        return cls(rto, rto_target, rpo_target, rto_breached, rpo_breached, tuple(warnings))


def _headline(state: RunState, figures: Figures) -> str:
    failure, validation = state.failure, state.validation or {}
    if failure:
        where = failure.check + (f", table {failure.table}" if failure.table else "")
        return f"Restore test of {state.database} FAILED at {failure.step} ({where}): {failure.message}"
    headline = (
        f"Restore test of {state.database} passed: {validation.get('tables', 0)} tables, "
        f"{validation.get('rows', 0):,} rows equal to the backup; RTO {_duration(figures.rto or 0)}, "
        f"backup {_duration(state.backup_age_seconds or 0)} old"
    )
    return headline + (" — " + "; ".join(figures.warnings) if figures.warnings else "")


def _facts(state: RunState, figures: Figures) -> tuple[tuple[str, str], ...]:
    validation = state.validation
    facts = [("Backup", state.backup.key if state.backup else "none chosen")]
    if state.backup_age_seconds is not None:
        facts.append(
            (
                "Backup age (RPO)",
                f"{_duration(state.backup_age_seconds)} (target {_duration(figures.rpo_target)})",
            )
        )
    if figures.rto is not None:
        facts.append(
            ("Restore time (RTO)", f"{_duration(figures.rto)} (target {_duration(figures.rto_target)})")
        )
    if validation:
        facts += [
            ("Tables / rows", f"{validation['tables']} / {validation['rows']:,}"),
            ("Rows mismatched", f"{validation['rows_mismatched']:,}"),
            (
                "Expectations failed",
                f"{validation['expectations_failed']} of {validation['expectations_evaluated']}",
            ),
            ("pg_amcheck", validation["amcheck"]),
        ]
    if state.scratch_created:
        fate = {True: "dropped", False: "KEPT"}.get(state.scratch_dropped, "not dropped")
        facts.append(("Scratch database", f"{state.scratch_name} ({fate})"))
    return tuple(facts)


def _metrics(state: RunState, figures: Figures) -> tuple[Metric, ...]:
    validation = state.validation
    metrics = [
        Metric(
            "restore_success",
            0.0 if state.failure else 1.0,
            documentation="1 if the last restore test passed",
        ),
        Metric("restore_rto_target_seconds", figures.rto_target, documentation="RTO target"),
        Metric("restore_rpo_target_seconds", figures.rpo_target, documentation="RPO target"),
    ]
    # Figures that were not measured are left out rather than pushed as zero.
    if figures.rto is not None:
        metrics.append(
            Metric(
                "restore_duration_seconds",
                figures.rto,
                documentation="Download + create + pg_restore time of the last restore test (RTO)",
            )
        )
    if state.backup_age_seconds is not None:
        metrics.append(
            Metric(
                "restore_backup_age_seconds",
                state.backup_age_seconds,
                documentation="Age of the restored backup when the test started (RPO)",
            )
        )
    if validation:
        metrics += [
            Metric(
                "restore_rows_mismatched",
                validation["rows_mismatched"],
                documentation="Rows whose count or content differs from the backup manifest",
            ),
            Metric(
                "restore_expectations_failed",
                validation["expectations_failed"],
                documentation="Great Expectations checks failed on the restored database",
            ),
            Metric("restore_tables", validation["tables"], documentation="Tables restored and validated"),
            Metric("restore_rows", validation["rows"], documentation="Rows restored and validated"),
        ]
    return tuple(metrics)


def conclude(
    settings: Settings,
    state: RunState | None,
    *,
    database: str,
    interval_key: str,
    now: datetime | None = None,
) -> Outcome:
    """The outcome of the run (and its row in the results store). ``state`` None: nothing ever reported."""
    finished_at = now or _now()
    if state is None:
        state = RunState(
            database=database,
            interval_key=interval_key,
            started_at=finished_at,
            scratch_name="",
            failure=Failure(
                "choose_backup", "crashed", "task choose_backup ended without a result; see its log"
            ),
        )
    figures = Figures.of(state, settings.config)
    failure, backup, validation = state.failure, state.backup, state.validation or {}
    status = "failed" if failure else ("warning" if figures.warnings else "success")
    summary = {
        "database": state.database,
        "backup_key": backup.key if backup else None,
        "backup_sha256": backup.sha256 if backup else None,
        "backup_snapshot_at": backup.snapshot_at.isoformat() if backup else None,
        "backup_age_seconds": state.backup_age_seconds,
        "rto_seconds": figures.rto,
        "rto_target_seconds": figures.rto_target,
        "rpo_target_seconds": figures.rpo_target,
        "rto_breached": figures.rto_breached,
        "rpo_breached": figures.rpo_breached,
        "warnings": list(figures.warnings),
        "failure": asdict(failure) if failure else None,
        "scratch_database": state.scratch_name or None,
        "scratch_dropped": state.scratch_dropped,
        "timings": {k: round(v, 3) for k, v in state.timings.items()},
        "validation": validation or None,
    }
    outcome = Outcome(
        job=JOB,
        subject={"database": state.database},
        status=status,
        started_at=state.started_at,
        finished_at=finished_at,
        headline=_headline(state, figures)[:1000],
        summary=summary,
        facts=_facts(state, figures),
        metrics=_metrics(state, figures),
        alert=status != "success",
        action=ACTION,
        log_fields={
            "backup_key": summary["backup_key"],
            "rto_seconds": figures.rto,
            "backup_age_seconds": state.backup_age_seconds,
            "rows_mismatched": validation.get("rows_mismatched"),
            "expectations_failed": validation.get("expectations_failed"),
            "failed_step": failure.step if failure else None,
            "failed_check": failure.check if failure else None,
            "failed_table": failure.table if failure else None,
        },
    )
    if settings.results_dsn:
        _save(settings, state, outcome, figures)
    return outcome


def _save(settings: Settings, state: RunState, outcome: Outcome, figures: Figures) -> None:
    from reliability.core.store import connect
    from reliability.restore.store import RestoreTestRow, save_test, save_validation

    validation, failure, backup, t = state.validation or {}, state.failure, state.backup, state.timings
    row = RestoreTestRow(
        interval_key=state.interval_key,
        database=state.database,
        status=outcome.status,
        started_at=outcome.started_at,
        finished_at=outcome.finished_at,
        rto_target_seconds=figures.rto_target,
        rpo_target_seconds=figures.rpo_target,
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
        rto_seconds=figures.rto,
        validate_seconds=t.get("validate"),
        rto_breached=figures.rto_breached,
        rpo_breached=figures.rpo_breached,
        tables_restored=validation.get("tables"),
        rows_restored=validation.get("rows"),
        rows_mismatched=validation.get("rows_mismatched"),
        expectations_evaluated=validation.get("expectations_evaluated"),
        expectations_failed=validation.get("expectations_failed"),
        amcheck=validation.get("amcheck"),
        summary=outcome.summary,
    )
    with connect(settings.results_dsn) as conn:
        if not validation:
            save_validation(
                conn, state.interval_key, state.database, None
            )  # no stale details of an earlier try
        save_test(conn, row)


def run_restore_test(
    settings: Settings,
    database: str,
    *,
    interval_key: str | None = None,
    run_at: datetime | None = None,
    backup_key: str | None = None,
    keep_on_failure: bool | None = None,
    jobs: int | None = None,
) -> Outcome:
    """Every step in order, the teardown whatever happens, and the outcome."""
    run_at = run_at or _now()
    interval_key = interval_key or run_at.isoformat()
    chosen = choose_step(
        settings,
        database,
        interval_key,
        run_at,
        backup_key=backup_key,
        keep_on_failure=keep_on_failure,
        jobs=jobs,
    )
    downloaded = created = restored = validated = dropped = None
    try:
        downloaded = download_step(settings, chosen)
        created = create_step(settings, downloaded)
        restored = restore_step(settings, created)
        validated = validate_step(settings, restored)
    finally:
        dropped = drop_step(settings, created or downloaded or chosen, validated)
    state = final_state(
        [
            ("choose_backup", chosen),
            ("download_and_check", downloaded),
            ("create_scratch_database", created),
            ("restore", restored),
            ("validate", validated),
        ],
        dropped,
    )
    return conclude(settings, state, database=database, interval_key=interval_key)
