"""Validation pieces on hand-made databases: pg_amcheck findings, generated columns, directory dumps."""

from __future__ import annotations

import psycopg

from reliability.restore.run import run_restore_test
from reliability.restore.validate import validate
from tests.restore.conftest import DATABASE, databases, manifest_of, with_config


def test_index_inconsistent_with_its_table_is_found_by_amcheck(fresh_db):
    # An "immutable" function redefined after the index was built: the classic way an index stops
    # matching its heap without touching a file. Only heapallindexed checking can see it.
    with psycopg.connect(fresh_db) as conn:
        conn.execute("CREATE FUNCTION f(i int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT i'")
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, v int)")
        conn.execute("INSERT INTO t SELECT g, g FROM generate_series(1, 500) g")
        conn.execute("CREATE INDEX t_f_idx ON t (f(v))")
        conn.execute("CREATE OR REPLACE FUNCTION f(i int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT -i'")
    manifest = manifest_of(fresh_db)

    report = validate(fresh_db, manifest, digest_workers=1)

    assert [f.check for f in report.findings] == ["amcheck"]
    assert "public.t_f_idx (table public.t)" in report.findings[0].message
    assert "lacks matching index tuple" in report.findings[0].message
    assert report.summary()["amcheck"] == "corrupt" and report.rows_mismatched == 0


def test_generated_columns_are_not_expected_in_the_dump_but_are_in_the_table(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        conn.execute(
            "CREATE TABLE g (id int PRIMARY KEY, a int, doubled int GENERATED ALWAYS AS (a * 2) STORED, "
            "note text)"
        )
        conn.execute("INSERT INTO g (id, a, note) SELECT g, g, 'n' || g FROM generate_series(1, 50) g")
    manifest = manifest_of(fresh_db)
    assert manifest.tables["public.g"].columns == ("id", "a", "note")

    report = validate(fresh_db, manifest, digest_workers=1, amcheck=False)

    assert report.ok, report.findings
    # Columns, rows and content are the catalog's and the digests': no GX suite is generated for them.
    assert report.expectations.evaluated == 0 and report.expectations.results == {}


def test_directory_format_backup_restores_with_digests_taken_during_the_restore(
    settings, make_backup, pg_cluster
):
    make_backup(fmt="directory")
    overlapped = with_config(settings, digest_during_restore=True)

    outcome = run_restore_test(overlapped, DATABASE, interval_key="week-dir")

    assert outcome.status == "success", outcome.headline
    assert outcome.summary["validation"]["rows_mismatched"] == 0
    # Every table was digested while pg_restore ran: none was left for the validation to read back.
    assert outcome.summary["validation"]["digests_from_restore"] == 8
    assert databases(pg_cluster) == set()
