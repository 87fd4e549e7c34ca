"""The restore test end to end on real servers: PostgreSQL, pg_dump/pg_restore, pg_amcheck, moto S3, GX."""
from __future__ import annotations

import json

from reliability.restore.job import run_restore_test
from reliability.restore.store import latest_tests, table_results
from reliability.store import connect

from tests.restore.conftest import DATABASE, databases


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
    assert validation["expectations_failed"] == 0 and validation["expectations_evaluated"] > 8 * 4
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
        results = conn.execute("SELECT table_name, success, result FROM reliability.restore_test_expectations "
                               "WHERE interval_key = 'week-1'").fetchall()
    assert row["status"] == "success" and row["backup_key"] == key and row["rows_mismatched"] == 0
    assert len(tables) == 8 and all(t["restored_digest"] == t["expected_digest"] for t in tables)
    assert len(results) == 8 and all(success for _, success, _ in results)
    # Nothing that leaves the run (XCom, store, log, Slack) carries the database password.
    assert pg_cluster.password not in json.dumps(outcome.to_dict())
    assert pg_cluster.password not in json.dumps([r for _, _, r in results])
