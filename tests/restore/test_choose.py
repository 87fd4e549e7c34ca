"""Choosing the backup: newest verified, the RPO window, requested keys, the results store's candidates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reliability.core.store import connect
from reliability.restore.choose import choose_backup
from reliability.restore.errors import NoVerifiedBackup
from reliability.restore.run import choose_step, run_restore_test
from tests.restore.conftest import DATABASE

PREFIX = f"backups/{DATABASE}/"
DAY = 86400


def choose(settings, **kwargs):
    return choose_backup(
        settings.s3,
        settings.bucket,
        DATABASE,
        PREFIX,
        now=datetime.now(UTC),
        rpo_seconds=kwargs.pop("rpo_seconds", 26 * 3600),
        **kwargs,
    )


def test_no_verified_backup_within_the_rpo_window_is_a_clear_failure_and_alert(settings, make_backup):
    key = make_backup(age=timedelta(days=3))

    outcome = run_restore_test(settings, DATABASE, interval_key="week-rpo")

    failure = outcome.summary["failure"]
    assert (failure["step"], failure["check"]) == ("choose_backup", "rpo_window")
    assert "RPO window of 26.0 h" in failure["message"] and key in failure["message"]
    assert outcome.status == "failed" and outcome.alert
    metrics = {m.name: m.value for m in outcome.metrics}
    assert metrics["restore_success"] == 0.0
    assert 3 * DAY - 60 < metrics["restore_backup_age_seconds"] < 3 * DAY + 600
    assert metrics["restore_rpo_target_seconds"] == 26 * 3600
    assert "restore_duration_seconds" not in metrics  # nothing was restored: no RTO figure to report


def test_no_backup_at_all_says_so(settings):
    with pytest.raises(NoVerifiedBackup, match="no manifests at all"):
        choose(settings)


def test_only_unusable_backups_are_counted_by_verdict(settings, make_backup):
    make_backup(verdict="corrupt")
    make_backup(verdict="suspicious")
    with pytest.raises(NoVerifiedBackup, match=r"1 corrupt, 1 suspicious") as caught:
        choose(settings)
    assert caught.value.check == "verified_backup"


def test_newest_verified_is_chosen_over_a_newer_corrupt_one(settings, make_backup):
    verified = make_backup(age=timedelta(hours=30))
    make_backup(verdict="corrupt", age=timedelta(hours=1))
    chosen = choose(settings, rpo_seconds=2 * DAY)
    assert chosen.key == verified and chosen.source == "s3"


def test_requested_backup_must_be_verified(settings, make_backup):
    corrupt = make_backup(verdict="corrupt")
    with pytest.raises(NoVerifiedBackup, match="has verdict 'corrupt'"):
        choose(settings, requested_key=corrupt)
    with pytest.raises(NoVerifiedBackup, match="has no manifest"):
        choose(settings, requested_key="backups/platform/nope.dump")


def test_requested_old_backup_is_restored_but_the_rpo_breach_is_flagged(settings, make_backup):
    old = make_backup(age=timedelta(days=2))
    state = choose_step(settings, DATABASE, "k", datetime.now(UTC), backup_key=old)
    assert state.failure is None and state.backup.key == old and state.backup.source == "requested"
    assert state.backup_age_seconds > settings.config.rpo_seconds


def test_results_store_rows_of_backup_verify_are_the_candidates(settings, make_backup, results_dsn):
    stored = make_backup(age=timedelta(hours=5))
    make_backup(age=timedelta(hours=1))  # newer, but unknown to the store: the store's word counts
    with connect(results_dsn) as conn:
        conn.execute(
            """INSERT INTO reliability.backup_dumps (interval_key, database, mode, verdict, bucket, dump_key,
                            manifest_key, uploaded, started_at, finished_at, dumped_at)
                        VALUES ('i', %s, 'backup', 'verified', %s, %s, %s, true, now(), now(),
                                now() - interval '5 hours')""",
            (DATABASE, settings.bucket, stored, stored + ".manifest.json"),
        )
        conn.commit()
    state = choose_step(settings, DATABASE, "k", datetime.now(UTC))
    assert state.backup.key == stored and state.backup.source == "results_store"


def test_a_broken_expectations_file_fails_the_run_before_anything_is_downloaded(
    settings, make_backup, expectations_file
):
    from tests.restore.conftest import with_config

    broken = with_config(settings, expectations_file=expectations_file("tables:\n  tenants: [oops]\n"))
    make_backup()
    state = choose_step(broken, DATABASE, "k", datetime.now(UTC))
    assert (state.failure.step, state.failure.check) == ("choose_backup", "expectations_config")
    assert "schema.table" in state.failure.message and state.backup is None
