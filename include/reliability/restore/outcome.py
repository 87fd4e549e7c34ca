"""The restore test's :class:`Outcome`: RTO and RPO against their targets, headline, facts and metrics."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from reliability.core.formatting import format_duration
from reliability.core.outcome import Metric, Outcome
from reliability.core.slack import mrkdwn_escape
from reliability.restore.config import RestoreConfig
from reliability.restore.errors import CONFIG_CHECKS
from reliability.restore.state import RunState, unreported

JOB = "restore_test"
ACTION = "restore.test"


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
            warnings.append(f"RTO {format_duration(rto)} exceeds the target of {format_duration(rto_target)}")
        if rpo_breached:
            warnings.append(
                f"the backup was {format_duration(age)} old, "
                f"over the RPO target of {format_duration(rpo_target)}"
            )
        validation = state.validation or {}
        if validation.get("collation_mismatch"):
            warnings.append(validation["collation"])
        if validation.get("amcheck") == "not run" and config.amcheck:
            warnings.append(f"pg_amcheck did not run: {validation.get('amcheck_note', '')}")
        if state.scratch_created and state.scratch_dropped is None:
            warnings.append(
                f"scratch database {state.scratch_name} was not dropped (teardown failed); "
                "the sweeper will retry"
            )
        return cls(rto, rto_target, rpo_target, rto_breached, rpo_breached, tuple(warnings))


def headline(state: RunState, figures: Figures) -> str:
    failure, validation = state.failure, state.validation or {}
    if failure and failure.check in CONFIG_CHECKS:
        return (
            f"Restore test of {state.database} did not run: configuration error (the backup was not "
            f"judged): {failure.message}"
        )
    if failure:
        where = failure.check + (f", table {failure.table}" if failure.table else "")
        return f"Restore test of {state.database} FAILED at {failure.step} ({where}): {failure.message}"
    text = (
        f"Restore test of {state.database} passed: {validation.get('tables', 0)} tables, "
        f"{validation.get('rows', 0):,} rows equal to the backup; RTO {format_duration(figures.rto or 0)}, "
        f"backup {format_duration(state.backup_age_seconds or 0)} old"
    )
    return text + (" — " + "; ".join(figures.warnings) if figures.warnings else "")


def facts(state: RunState, figures: Figures) -> tuple[tuple[str, str], ...]:
    validation = state.validation
    found = [("Backup", state.backup.key if state.backup else "none chosen")]
    if state.backup_age_seconds is not None:
        found.append(
            (
                "Backup age (RPO)",
                f"{format_duration(state.backup_age_seconds)} (target {format_duration(figures.rpo_target)})",
            )
        )
    if figures.rto is not None:
        found.append(
            (
                "Restore time (RTO)",
                f"{format_duration(figures.rto)} (target {format_duration(figures.rto_target)})",
            )
        )
    if validation:
        found += [
            ("Tables / rows", f"{validation['tables']} / {validation['rows']:,}"),
            ("Rows mismatched", f"{validation['rows_mismatched']:,}"),
            (
                "Expectations failed",
                f"{validation['expectations_failed']} of {validation['expectations_evaluated']}",
            ),
            ("pg_amcheck", validation["amcheck"]),
        ]
        if "foreign_keys" in validation:
            found.append(
                (
                    "Foreign keys / sequences",
                    f"{validation['foreign_keys']} checked, {validation['foreign_keys_violated']} violated "
                    f"({validation['foreign_key_violations']:,} rows referencing nothing) / "
                    f"{validation['sequences']} checked, {validation['sequences_behind']} behind",
                )
            )
    if state.scratch_created:
        fate = {True: "dropped", False: "KEPT"}.get(state.scratch_dropped, "not dropped")
        found.append(("Scratch database", f"{state.scratch_name} ({fate})"))
    return tuple(found)


def detail(state: RunState) -> str:
    """What PostgreSQL does not vouch for in the restored database, shown full width in Slack."""
    validation = state.validation or {}
    if not validation.get("not_valid_total"):
        return ""
    listed = "\n".join(f"• {mrkdwn_escape(c)}" for c in validation["not_valid_constraints"])
    more = validation["not_valid_total"] - len(validation["not_valid_constraints"])
    return (
        f"*NOT VALID constraints* ({validation['not_valid_total']}; checked on the data all the same):\n"
        f"{listed}" + (f"\n… and {more} more" if more else "")
    )


def metrics(state: RunState, figures: Figures) -> tuple[Metric, ...]:
    validation, failure = state.validation or {}, state.failure
    checked = "foreign_keys" in validation
    # (name, value, documentation); a figure that was not measured (None) is left out, not pushed as zero.
    figures_found = [
        (
            # A configuration error is no verdict on the backup: the job fails (reliability_job_success 0),
            # restore_success keeps the last real verdict (pushes add), and RestoreTestFailed does not
            # claim the backup cannot be restored; RestoreTestStale fires if the file stays broken.
            "restore_success",
            None if failure and failure.check in CONFIG_CHECKS else (0.0 if failure else 1.0),
            "1 if the last restore test passed",
        ),
        ("restore_rto_target_seconds", figures.rto_target, "RTO target"),
        ("restore_rpo_target_seconds", figures.rpo_target, "RPO target"),
        (
            "restore_duration_seconds",
            figures.rto,
            "Download + create + pg_restore time of the last restore test (RTO)",
        ),
        (
            "restore_backup_age_seconds",
            state.backup_age_seconds,
            "Age of the restored backup when the test started (RPO)",
        ),
        (
            "restore_rows_mismatched",
            validation.get("rows_mismatched"),
            "Rows whose count or content differs from the backup manifest",
        ),
        (
            "restore_expectations_failed",
            validation.get("expectations_failed"),
            "Great Expectations checks failed on the restored database",
        ),
        ("restore_tables", validation.get("tables"), "Tables restored and validated"),
        ("restore_rows", validation.get("rows"), "Rows restored and validated"),
        (
            "restore_foreign_key_violations",
            validation.get("foreign_key_violations") if checked else None,
            "Restored rows whose foreign key references no row (anti-join per constraint)",
        ),
        (
            "restore_sequences_behind",
            validation.get("sequences_behind") if checked else None,
            "Restored sequences whose next value is already taken in the column they own",
        ),
        (
            "restore_not_valid_constraints",
            validation.get("not_valid_total") if checked else None,
            "Constraints restored NOT VALID (PostgreSQL does not vouch for them)",
        ),
        (
            "restore_collation_version_mismatch",
            (1.0 if validation["collation_mismatch"] else 0.0) if checked else None,
            "1 if the scratch database's collation version differs from the library's",
        ),
    ]
    return tuple(
        Metric(name, value, documentation=doc) for name, value, doc in figures_found if value is not None
    )


def to_outcome(
    config: RestoreConfig,
    state: RunState | None,
    *,
    database: str,
    interval_key: str,
    now: datetime | None = None,
) -> Outcome:
    """The outcome of the run. ``state`` None: no step ever reported (the first task crashed)."""
    finished_at = now or datetime.now(UTC)
    state = state or unreported(database, interval_key, finished_at)
    figures = Figures.of(state, config)
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
        "configuration_error": bool(failure and failure.check in CONFIG_CHECKS),
        "scratch_database": state.scratch_name or None,
        "scratch_dropped": state.scratch_dropped,
        "timings": {k: round(v, 3) for k, v in state.timings.items()},
        "validation": validation or None,
    }
    return Outcome(
        job=JOB,
        subject={"database": state.database},
        status=status,
        started_at=state.started_at,
        finished_at=finished_at,
        headline=headline(state, figures)[:1000],
        summary=summary,
        facts=facts(state, figures),
        metrics=metrics(state, figures),
        detail=detail(state),
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
