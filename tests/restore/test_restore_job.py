"""The restore test end to end on real servers: PostgreSQL, pg_dump/pg_restore, pg_amcheck, moto S3, GX."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from reliability.core.store import connect
from reliability.restore.run import run_restore_test
from reliability.restore.store import check_results, latest_tests, table_results
from tests.restore.conftest import DATABASE, databases


def _now():
    return datetime.now(UTC)


def metric(outcome, name):
    values = [m.value for m in outcome.metrics if m.name == name]
    return values[0] if values else None


def test_restored_data_equals_the_dump(settings, make_backup, pg_cluster, results_dsn, tmp_path):
    key = make_backup()

    outcome = run_restore_test(settings, DATABASE, interval_key="week-1")

    assert outcome.status == "success", outcome.headline
    assert outcome.summary["backup_key"] == key
    validation = outcome.summary["validation"]
    assert validation["tables"] == 8 and validation["rows_mismatched"] == 0
    # GX runs the declared expectations only; what it used to repeat is proven once elsewhere.
    assert validation["expectations_failed"] == 0 and validation["expectations_evaluated"] == 11
    assert (validation["foreign_keys"], validation["foreign_key_violations"]) == (9, 0)
    assert (validation["sequences"], validation["sequences_behind"]) == (8, 0)
    assert validation["collation_mismatch"] is False and validation["not_valid_total"] == 0
    assert validation["amcheck"] == "ok"
    assert metric(outcome, "restore_success") == 1.0
    assert metric(outcome, "restore_rows") == validation["rows"] > 0
    assert metric(outcome, "restore_duration_seconds") > 0
    assert 2 * 3600 - 60 < metric(outcome, "restore_backup_age_seconds") < 2 * 3600 + 600
    assert outcome.action == "restore.test" and outcome.subject == {"database": DATABASE}
    # The scratch database and the download are gone.
    assert outcome.summary["scratch_dropped"] is True
    assert databases(pg_cluster) == set()
    assert not any((tmp_path / "downloads").iterdir())
    with connect(results_dsn) as conn:
        [row] = latest_tests(conn, DATABASE)
        tables = table_results(conn, "week-1", DATABASE)
        checks = Counter(c["kind"] for c in check_results(conn, "week-1", DATABASE) if c["ok"])
        results = conn.execute(
            "SELECT table_name, success, result FROM reliability.restore_test_expectations "
            "WHERE interval_key = 'week-1'"
        ).fetchall()
    assert row["status"] == "success" and row["backup_key"] == key and row["rows_mismatched"] == 0
    assert len(tables) == 8 and all(t["restored_digest"] == t["expected_digest"] for t in tables)
    # A suite for each table with declared expectations (public.sites has none).
    assert len(results) == 7 and all(success for _, success, _ in results)
    assert "public.sites" not in {name for name, _, _ in results}
    assert (row["foreign_keys_checked"], row["foreign_key_violations"], row["sequences_behind"]) == (9, 0, 0)
    assert checks == {"foreign_key": 9, "sequence": 8}
    # Nothing that leaves the run (XCom, store, log, Slack) carries the database password.
    assert pg_cluster.password not in json.dumps(outcome.to_dict())
    assert pg_cluster.password not in json.dumps([r for _, _, r in results])


def test_silently_changed_value_is_caught_by_the_digest_naming_the_table(
    settings, make_backup, scratch_copy, source_db, pg_cluster
):
    # The dump holds one changed value the manifest (taken from the source) does not: same row counts,
    # still valid for every expectation; only the content digest can tell.
    changed = scratch_copy("UPDATE tenants SET name = name || ' (changed)' WHERE id = 3")
    make_backup(dump_from=changed, manifest_from=source_db)

    outcome = run_restore_test(settings, DATABASE, interval_key="week-digest")

    assert outcome.status == "failed" and outcome.alert
    failure = outcome.summary["failure"]
    assert (
        failure["step"] == "validate"
        and failure["check"] == "digest"
        and failure["table"] == "public.tenants"
    )
    assert "public.tenants" in outcome.headline and "row counts match" in outcome.headline
    validation = outcome.summary["validation"]
    assert validation["rows_mismatched"] == 1 and validation["expectations_failed"] == 0
    assert [f["table"] for f in validation["findings"]] == ["public.tenants"]
    assert metric(outcome, "restore_success") == 0.0 and metric(outcome, "restore_rows_mismatched") == 1
    assert databases(pg_cluster) == set()


def test_missing_rows_are_reported_as_row_count_and_digest_of_the_table(
    settings, make_backup, scratch_copy, source_db
):
    fewer = scratch_copy("DELETE FROM leads WHERE id IN (SELECT id FROM leads ORDER BY id LIMIT 5)")
    make_backup(dump_from=fewer, manifest_from=source_db)

    outcome = run_restore_test(settings, DATABASE, interval_key="week-rows")

    failure = outcome.summary["failure"]
    assert (failure["check"], failure["table"]) == ("row_count", "public.leads")
    checks = {(f["check"], f["table"]) for f in outcome.summary["validation"]["findings"]}
    assert {("row_count", "public.leads"), ("digest", "public.leads")} <= checks
    # Counted once, by the digest pass: GX no longer repeats the row count.
    assert outcome.summary["validation"]["expectations_failed"] == 0
    assert outcome.summary["validation"]["rows_mismatched"] == 5


def test_corrupt_download_is_refused_before_restoring(settings, make_backup, pg_cluster, tmp_path):
    def flip_one_byte(data: bytes) -> bytes:
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]

    key = make_backup(transform=flip_one_byte)

    outcome = run_restore_test(settings, DATABASE, interval_key="week-sha")

    failure = outcome.summary["failure"]
    assert (failure["step"], failure["check"]) == ("download_and_check", "sha256")
    assert key in failure["message"] and "Not restoring" in failure["message"]
    # Nothing was restored or created, and no partial file is left behind.
    assert outcome.summary["scratch_dropped"] is None and metric(outcome, "restore_duration_seconds") is None
    assert databases(pg_cluster) == set()
    assert list((tmp_path / "downloads").iterdir()) == []


def test_truncated_object_is_refused_by_size(settings, make_backup):
    make_backup(transform=lambda data: data[: len(data) // 3])

    outcome = run_restore_test(settings, DATABASE, interval_key="week-size")

    assert outcome.summary["failure"]["check"] == "size"


def test_restore_dying_half_way_names_the_table_and_still_drops_scratch(settings, make_backup, pg_cluster):
    # A dump cut short, but hashed that way: the download checks out, pg_restore dies in the data.
    make_backup(transform=lambda data: data[: int(len(data) * 0.6)], hash_transformed=True)

    outcome = run_restore_test(settings, DATABASE, interval_key="week-restore")

    failure = outcome.summary["failure"]
    assert (failure["step"], failure["check"]) == ("restore", "pg_restore")
    assert failure["table"] and failure["table"].startswith("public.")
    assert failure["table"] in failure["message"]
    # With parallel jobs, which process notices the cut first decides pg_restore's words.
    assert "could not read" in failure["message"] or "worker process died" in failure["message"], failure
    assert outcome.summary["scratch_dropped"] is True
    assert databases(pg_cluster) == set()


def test_restore_retried_after_a_crash_half_way_starts_from_an_empty_scratch_database(
    settings, make_backup, pg_cluster
):
    import psycopg

    from reliability.restore.run import (
        choose_step,
        create_step,
        download_step,
        drop_step,
        restore_step,
        validate_step,
    )

    make_backup()
    created = create_step(
        settings, download_step(settings, choose_step(settings, DATABASE, "week-retry", _now()))
    )
    # What a worker killed in the middle of pg_restore leaves behind: some of the tables, part of the data.
    with psycopg.connect(settings.scratch_target(created.scratch_name), autocommit=True) as conn:
        conn.execute("CREATE TABLE public.tenants (id bigint PRIMARY KEY, slug text)")
        conn.execute("INSERT INTO public.tenants VALUES (1, 'half')")

    restored = restore_step(settings, created)  # Airflow's retry of the task, with the same input
    validated = validate_step(settings, restored)

    assert restored.failure is None and validated.failure is None, (restored.failure, validated.failure)
    assert validated.validation["rows_mismatched"] == 0
    drop_step(settings, created, validated)
    assert databases(pg_cluster) == set()


def test_failing_expectation_names_table_and_check_and_drops_scratch(
    settings, make_backup, pg_cluster, expectations_file
):
    from tests.restore.conftest import with_config

    strict = with_config(
        settings,
        expectations_file=expectations_file(
            "tables:\n  public.tenants:\n    - expect_column_values_to_be_in_set: {column: plan, value_set: [free, pro]}\n"
        ),
    )
    make_backup()

    outcome = run_restore_test(strict, DATABASE, interval_key="week-gx")

    failure = outcome.summary["failure"]
    assert (failure["step"], failure["check"], failure["table"]) == (
        "validate",
        "expectations",
        "public.tenants",
    )
    assert "expect_column_values_to_be_in_set(plan)" in failure["message"]
    assert metric(outcome, "restore_expectations_failed") == 1
    assert outcome.summary["validation"]["rows_mismatched"] == 0
    assert databases(pg_cluster) == set()


def test_keep_on_failure_keeps_the_scratch_database_for_debugging(
    settings, make_backup, pg_cluster, expectations_file
):
    from reliability.restore.scratch import drop_scratch_database
    from tests.restore.conftest import with_config

    strict = with_config(
        settings,
        expectations_file=expectations_file(
            "tables:\n  public.users:\n    - expect_column_values_to_be_in_set: {column: role, value_set: [owner]}\n"
        ),
    )
    make_backup()

    outcome = run_restore_test(strict, DATABASE, interval_key="week-keep", keep_on_failure=True)

    kept = outcome.summary["scratch_database"]
    assert outcome.status == "failed" and outcome.summary["scratch_dropped"] is False
    assert databases(pg_cluster) == {kept}
    assert ("Scratch database", f"{kept} (KEPT)") in outcome.facts
    drop_scratch_database(settings.scratch_dsn, settings.source_dsn, kept, "restore_test_")
