"""The outcome as published (lead's publisher, real Pushgateway) and as stored (idempotent per interval)."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from reliability.adapters.pushgateway import PushgatewayConfig
from reliability.core.publish import PublishTargets, publish
from reliability.core.store import connect
from reliability.restore.choose import ChosenBackup
from reliability.restore.outcome import to_outcome
from reliability.restore.run import finish
from reliability.restore.state import Failure, RunState
from reliability.restore.store import latest_tests
from tests.restore.conftest import DATABASE, with_config

T0 = datetime.now(UTC).replace(microsecond=0)
BACKUP = ChosenBackup(
    DATABASE,
    "backups/platform/2026/11/29/platform-x.dump",
    "b" * 64,
    1234,
    "custom",
    T0 - timedelta(hours=5),
    "verified",
    "s3",
    8,
    1000,
)
VALIDATION = {
    "tables": 8,
    "tables_failed": 0,
    "rows": 1000,
    "rows_mismatched": 0,
    "expectations_evaluated": 40,
    "expectations_failed": 0,
    "amcheck": "ok",
    "amcheck_note": "",
    "findings": [],
    "findings_total": 0,
    "unlisted_tables": [],
    "skipped_expectations": [],
    "timings": {},
}
PASSED = RunState(
    database=DATABASE,
    interval_key="2026-11-29",
    started_at=T0,
    scratch_name="restore_test_platform_x",
    backup=BACKUP,
    backup_age_seconds=5 * 3600.0,
    scratch_created=True,
    scratch_dropped=True,
    validation=VALIDATION,
    timings={
        "download_and_check": 2.0,
        "create_scratch_database": 0.5,
        "restore": 40.0,
        "pg_restore": 39.5,
        "validate": 12.0,
    },
    completed=("choose_backup", "download_and_check", "create_scratch_database", "restore", "validate"),
)


def test_metrics_of_the_contract_reach_the_pushgateway_grouped_by_database(settings, pushgateway, tmp_path):
    outcome = to_outcome(
        settings.config,
        PASSED,
        database=DATABASE,
        interval_key="k",
        now=T0 + timedelta(minutes=1),
    )
    targets = PublishTargets(
        None, PushgatewayConfig(pushgateway.url), None, tmp_path / "monitor.log", interval_key="k"
    )

    publish([outcome], targets)

    text = urllib.request.urlopen(f"{pushgateway.url}/metrics").read().decode()
    labels = f'database="{DATABASE}",instance="",job="restore_test"'
    for name, value in [
        ("restore_success", "1"),
        ("restore_duration_seconds", "42"),
        ("restore_backup_age_seconds", "18000"),
        ("restore_rows_mismatched", "0"),
        ("restore_expectations_failed", "0"),
        ("restore_tables", "8"),
        ("restore_rows", "1000"),
        ("restore_rto_target_seconds", "3600"),
        ("restore_rpo_target_seconds", "93600"),
        ("reliability_job_success", "1"),
    ]:
        assert f"{name}{{{labels}}} {value}" in text, name
    line = json.loads((tmp_path / "monitor.log").read_text())
    assert line["action"] == "restore.test" and line["status"] == "success" and line["database"] == DATABASE


def test_rto_breach_is_a_warning_with_an_alert(settings):
    tight = with_config(settings, rto_seconds=30.0)
    outcome = to_outcome(tight.config, PASSED, database=DATABASE, interval_key="k")
    assert outcome.status == "warning" and outcome.alert
    assert "RTO 42s exceeds the target of 30s" in outcome.headline
    assert outcome.summary["rto_breached"] is True and outcome.summary["rpo_breached"] is False


def test_a_rerun_of_the_same_interval_replaces_its_row(settings, results_dsn):
    finish(settings, PASSED, database=DATABASE, interval_key="2026-11-29")
    failed = replace(
        PASSED,
        validation=None,
        completed=("choose_backup",),
        failure=Failure("download_and_check", "sha256", "differs"),
    )
    finish(settings, failed, database=DATABASE, interval_key="2026-11-29")
    with connect(results_dsn) as conn:
        rows = latest_tests(conn, DATABASE)
    assert len(rows) == 1
    assert (rows[0]["status"], rows[0]["failed_step"], rows[0]["failed_check"]) == (
        "failed",
        "download_and_check",
        "sha256",
    )
    assert rows[0]["rto_seconds"] is None and rows[0]["backup_key"] == BACKUP.key


def test_integrity_findings_are_counted_in_gauges_and_a_collation_mismatch_is_a_warning(settings):
    validation = {
        **VALIDATION,
        "foreign_keys": 9,
        "foreign_keys_violated": 0,
        "foreign_key_violations": 0,
        "sequences": 8,
        "sequences_behind": 0,
        "not_valid_constraints": ["public.users: users_<b>_fkey (foreign key)"],
        "not_valid_total": 1,
        "collation_mismatch": True,
        "collation": "collation version 2.36 recorded for the database, the server's library reports 2.41",
    }
    outcome = to_outcome(
        settings.config, replace(PASSED, validation=validation), database=DATABASE, interval_key="k"
    )
    assert outcome.status == "warning" and outcome.alert
    assert "library reports 2.41" in outcome.headline
    metrics = {m.name: m.value for m in outcome.metrics}
    assert metrics["restore_collation_version_mismatch"] == 1.0
    assert metrics["restore_not_valid_constraints"] == 1 and metrics["restore_foreign_key_violations"] == 0
    assert "users_&lt;b&gt;_fkey" in outcome.detail  # a name from the data, escaped for mrkdwn


def test_a_results_store_that_is_down_still_logs_and_pushes_and_the_retry_stores_the_rows(
    settings, pushgateway, results_dsn, tmp_path
):
    import pytest

    from reliability.core.publish import PublishIncomplete
    from reliability.restore.run import outcome_with_rows

    state = replace(PASSED, interval_key="2026-11-30")
    outcome, store_rows = outcome_with_rows(settings, state, database=DATABASE, interval_key="2026-11-30")
    down = "host=127.0.0.1 port=1 dbname=nothing user=nobody connect_timeout=2"
    targets = PublishTargets(
        down, PushgatewayConfig(pushgateway.url), None, tmp_path / "monitor.log", interval_key="2026-11-30"
    )
    with pytest.raises(PublishIncomplete, match="0 of 1 outcome"):
        publish([outcome], targets, store_rows)
    line = json.loads((tmp_path / "monitor.log").read_text().splitlines()[-1])
    assert line["action"] == "restore.test" and line["store_error"]
    text = urllib.request.urlopen(f"{pushgateway.url}/metrics").read().decode()
    assert f'restore_success{{database="{DATABASE}",instance="",job="restore_test"}} 1' in text

    publish([outcome], replace(targets, results_dsn=results_dsn), store_rows)  # the retry
    with connect(results_dsn) as conn:
        rows = [r for r in latest_tests(conn, DATABASE) if r["interval_key"] == "2026-11-30"]
    assert [r["status"] for r in rows] == ["success"]
