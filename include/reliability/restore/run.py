"""The restore test, step by step, and the :class:`Outcome` it ends in.

Each step takes the run's :class:`RunState` and returns it extended; the DAG runs one step per task
(:mod:`reliability.airflow.tasks.restore_test`). A failed check is recorded in the state, not raised: the
later steps see it and do nothing, the teardown drops the scratch database, and :func:`finish` turns the
state into a failed outcome naming the step, the check and the table. Only crashes (a server down, a
bug) raise, so Airflow retries them.

:func:`run` (and :func:`run_restore_test`) runs all steps in one call, for tests, the benchmark and a
command line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reliability.backups.names import split_qualified
from reliability.core.config import ConfigError
from reliability.core.outcome import Outcome
from reliability.restore.choose import choose_backup, read_manifest
from reliability.restore.declared import check_columns, load_expectations
from reliability.restore.digest import DigestPool, TableDigestResult
from reliability.restore.download import download_backup, remove_download
from reliability.restore.errors import CheckFailed, ExpectationsConfigError, NoVerifiedBackup
from reliability.restore.outcome import to_outcome
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
from reliability.restore.state import Failure, RunState, Settings, final_state, unreported
from reliability.restore.store import recorded_candidates, save_run, save_validation
from reliability.restore.validate import validate

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _config_errors() -> Iterator[None]:
    """A broken expectations file is the operator's to fix: a finding, not a crash to retry."""
    try:
        yield
    except ConfigError as exc:
        raise ExpectationsConfigError(str(exc)) from None


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
    """The verified dump of ``database`` the backup job recorded last (empty: fall back to S3)."""
    if not settings.results_dsn:
        return []
    from reliability.core.store import connect

    with connect(settings.results_dsn) as conn:
        return recorded_candidates(conn, database, settings.bucket)


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
        with _config_errors():  # a broken file fails now, not after the restore
            declared = load_expectations(config.expectations_path)
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
        found = {"backup": chosen, "backup_age_seconds": chosen.age_seconds(now)}
        try:
            # A column the backup does not have is a typo in the file: found before anything is downloaded.
            check_columns(declared, read_manifest(settings.s3, settings.bucket, chosen.key))
        except ConfigError as exc:
            return {**found, "failure": Failure("choose_backup", ExpectationsConfigError.check, str(exc))}
        return found

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
        # GX's own argument checks (built with the suites); a file broken since the first task, too.
        with _config_errors():
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
        if settings.results_dsn:
            from reliability.core.store import connect

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
    drop_scratch_database(
        settings.scratch_dsn, settings.source_dsn, state.scratch_name, settings.config.scratch_prefix
    )
    return replace(state, scratch_dropped=True)


def sweep_step(settings: Settings, now: datetime | None = None, sources: tuple[str, ...] = ()) -> SweepReport:
    """Drop leftover scratch databases and downloads older than the configured age.

    ``sources``: connection strings of every configured source database (default: this run's), none
    of which the scratch connection may lead to (:class:`UnsafeScratch` before anything is dropped).
    """
    return sweep(
        settings.scratch_dsn,
        sources or (settings.source_dsn,),
        settings.config.scratch_prefix,
        timedelta(hours=settings.config.sweep_after_hours),
        now or _now(),
        settings.download_dir,
    )


def outcome_with_rows(
    settings: Settings,
    state: RunState | None,
    *,
    database: str,
    interval_key: str,
    now: datetime | None = None,
) -> tuple[Outcome, Callable[[Any], None]]:
    """The run's outcome, and ``store_rows(conn)`` saving the test's rows: publishing calls it in its store
    step, so a store that is down never keeps the outcome from the log, Pushgateway and Slack."""
    now = now or _now()
    state = state or unreported(database, interval_key, now)
    outcome = to_outcome(settings.config, state, database=database, interval_key=interval_key, now=now)
    return outcome, lambda conn: save_run(conn, state, outcome)


def finish(
    settings: Settings,
    state: RunState | None,
    *,
    database: str,
    interval_key: str,
    now: datetime | None = None,
) -> Outcome:
    """The run's outcome, stored as the test's row in the results store (when there is one)."""
    outcome, store_rows = outcome_with_rows(
        settings, state, database=database, interval_key=interval_key, now=now
    )
    if settings.results_dsn:
        from reliability.core.store import connect

        with connect(settings.results_dsn) as conn:
            store_rows(conn)
    return outcome


def run_restore_test(
    settings: Settings,
    database: str,
    *,
    interval_key: str | None = None,
    run_at: datetime | None = None,
    **choice: Any,
) -> Outcome:
    """Every step in order, the teardown whatever happens, and the outcome.

    ``choice``: the options of :func:`choose_step` (``backup_key``, ``keep_on_failure``, ``jobs``).
    """
    run_at = run_at or _now()
    interval_key = interval_key or run_at.isoformat()
    chosen = choose_step(settings, database, interval_key, run_at, **choice)
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
    return finish(settings, state, database=database, interval_key=interval_key)


def run(settings: Settings, database: str, **options: Any) -> list[Outcome]:
    """The job's entry point: one restore test of ``database`` (options as :func:`run_restore_test`)."""
    return [run_restore_test(settings, database, **options)]
