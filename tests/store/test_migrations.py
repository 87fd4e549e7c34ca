from datetime import UTC

import pytest

from reliability.core.store import RunRecord, connect, latest_runs, migrate, record_run
from reliability.core.store.db import MigrationError, migration_files


def test_migrations_apply_from_empty_and_rerun_applies_nothing(pg_cluster):
    dsn = pg_cluster.create_database("migrate_from_empty")
    applied = migrate(dsn)
    assert applied == [f"{v}_{n}" for v, n, _ in migration_files()]
    assert migrate(dsn) == []
    with connect(dsn) as conn:
        versions = [
            r[0] for r in conn.execute("SELECT version FROM reliability.schema_migrations ORDER BY 1")
        ]
        tables = {
            r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'reliability'")
        }
    assert versions == [v for v, _, _ in migration_files()]
    assert {"runs", "schema_migrations"} <= tables


def test_an_edited_applied_migration_is_refused(results_dsn):
    with connect(results_dsn) as conn:
        conn.execute("UPDATE reliability.schema_migrations SET sha256 = 'x' WHERE version = '001'")
        conn.commit()
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(results_dsn)


def test_rerun_of_same_interval_replaces_the_run(results_dsn):
    from datetime import datetime

    t0 = datetime(2026, 11, 1, 2, tzinfo=UTC)
    with connect(results_dsn) as conn:
        record_run(conn, RunRecord("backup_verify", "2026-11-01", "failed", t0, t0, {"reason": "x"}))
        record_run(conn, RunRecord("backup_verify", "2026-11-01", "success", t0, t0, {"size": 3}))
        record_run(conn, RunRecord("backup_verify", "2026-11-02", "success", t0, t0, {}))
        runs = latest_runs(conn, "backup_verify")
    by_key = {r["interval_key"]: r for r in runs}
    assert len(runs) == 2
    assert by_key["2026-11-01"]["status"] == "success"
    assert by_key["2026-11-01"]["summary"] == {"size": 3}
    assert by_key["2026-11-01"]["attempts"] == 2
