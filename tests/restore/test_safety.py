"""The safety rules, each pinned: scratch != source, only prefixed names dropped, quoted identifiers, sweeper."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reliability.restore.errors import UnsafeScratch
from reliability.restore.run import drop_step, run_restore_test, sweep_step
from reliability.restore.scratch import (
    Endpoint,
    check_scratch_target,
    create_scratch_database,
    created_at,
    drop_scratch_database,
    is_scratch_name,
    same_server,
    scratch_name,
    sweep,
)
from reliability.restore.state import RunState
from tests.restore.conftest import DATABASE, databases

PREFIX = "restore_test_"
SOURCE = "host=source.invalid port=5432 dbname=platform"  # a source elsewhere: only the name rules apply
NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


def test_scratch_connection_pointing_at_the_source_is_refused_before_anything_happens(
    settings, make_backup, source_db, pg_cluster, tmp_path
):
    make_backup()
    unsafe = replace(settings, scratch_dsn=source_db)

    outcome = run_restore_test(unsafe, DATABASE, interval_key="week-unsafe")

    failure = outcome.summary["failure"]
    assert (failure["step"], failure["check"]) == ("choose_backup", "scratch_safety")
    assert "points at the source database" in failure["message"]
    assert outcome.summary["backup_key"] is None  # stopped before even choosing, let alone downloading
    assert not (tmp_path / "downloads").exists() or list((tmp_path / "downloads").iterdir()) == []
    assert databases(pg_cluster) == set()


@pytest.mark.parametrize(
    "scratch, source",
    [
        ("postgresql://u:p@localhost:5432/platform", "postgresql://v:q@127.0.0.1:5432/platform"),
        ("host=/var/run/postgresql dbname=platform", "postgresql://u@localhost/platform"),
        ("postgresql://u@db.internal:6432/platform", "host=db.internal port=6432 dbname=platform user=x"),
    ],
)
def test_same_host_port_and_name_in_any_spelling_is_the_source(scratch, source):
    with pytest.raises(UnsafeScratch, match="points at the source database"):
        check_scratch_target(scratch, source, "restore_test_platform_202611290400", PREFIX)


@pytest.mark.parametrize(
    "scratch",
    [
        "postgresql://u@127.0.0.1:5433/platform",  # another port: another server
        "postgresql://u@127.0.0.1:5432/postgres",  # the same server's maintenance database
    ],
)
def test_another_port_or_database_is_a_valid_scratch_target(scratch):
    check_scratch_target(
        scratch, "postgresql://u@127.0.0.1:5432/platform", "restore_test_platform_202611290400", PREFIX
    )


def test_endpoint_reads_host_port_and_name_without_credentials():
    endpoint = Endpoint.from_dsn("postgresql://admin:s3cret@db.example:6543/platform?sslmode=require")
    assert endpoint == Endpoint("db.example", 6543, "platform")
    assert "s3cret" not in repr(endpoint) + str(endpoint)
    assert same_server(Endpoint("localhost", 5432, "a"), Endpoint("127.0.0.1", 5432, "b"))
    assert not same_server(Endpoint("localhost", 5432, "a"), Endpoint("localhost", 5433, "a"))


@pytest.mark.parametrize(
    "name",
    [
        "platform",
        "restore_test_platform",
        "restore_test_",
        "restore_test_x_2026",
        "my_restore_test_platform_202611290400",
        "RESTORE_TEST_platform_202611290400",
        'restore_test_platform_202611290400"; DROP DATABASE platform; --',
    ],
)
def test_a_name_without_the_scratch_pattern_is_never_dropped(pg_cluster, name):
    victim = "platform_keep_me"
    pg_cluster.create_database(victim, exist_ok=True)
    try:
        with pytest.raises(UnsafeScratch, match="refusing to create or drop"):
            drop_scratch_database(pg_cluster.dsn("postgres"), SOURCE, name, PREFIX)
        with pytest.raises(UnsafeScratch, match="refusing to create or drop"):
            drop_scratch_database(pg_cluster.dsn("postgres"), SOURCE, victim, PREFIX)
        with pg_cluster.connect() as conn:
            assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (victim,)).fetchone()
    finally:
        pg_cluster.drop_database(victim)


def test_teardown_refuses_a_tampered_state_naming_a_real_database(settings, source_db, pg_cluster):
    source_name = source_db.rsplit("/", 1)[1]
    state = RunState(
        database=DATABASE, interval_key="k", started_at=NOW, scratch_name=source_name, scratch_created=True
    )
    with pytest.raises(UnsafeScratch):
        drop_step(settings, state, state)
    with pg_cluster.connect() as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (source_name,)).fetchone()


def test_identifiers_are_quoted_so_odd_but_valid_names_round_trip(pg_cluster):
    name = scratch_name(PREFIX, "Plat-Form 2", NOW)
    assert name == "restore_test_plat_form_2_202611290400"
    dsn = create_scratch_database(
        pg_cluster.dsn("postgres"), pg_cluster.dsn("platform_nowhere"), name, PREFIX
    )
    try:
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == name
    finally:
        assert drop_scratch_database(pg_cluster.dsn("postgres"), SOURCE, name, PREFIX) is True


@given(database=st.text(min_size=1, max_size=80), minute=st.integers(0, 10**7))
def test_every_generated_name_is_a_droppable_scratch_name_with_its_own_time(database, minute):
    when = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)
    name = scratch_name(PREFIX, database, when)
    assert len(name.encode()) <= 63 and is_scratch_name(PREFIX, name)
    assert created_at(PREFIX, name) == when


def test_sweeper_drops_only_old_prefixed_databases(pg_cluster, tmp_path):
    old = scratch_name(PREFIX, "platform", NOW - timedelta(days=2))
    young = scratch_name(PREFIX, "platform", NOW - timedelta(hours=3))
    unprefixed = "platform_20261101"
    odd = "restore_test_leftover"  # prefixed but not a scratch name: left alone and reported
    for name in (old, young, unprefixed, odd):
        pg_cluster.create_database(name, exist_ok=True)
    stale_file = tmp_path / f"{old}.dump"
    stale_file.write_bytes(b"x")
    import os

    os.utime(stale_file, (0, 0))
    try:
        report = sweep(pg_cluster.dsn("postgres"), [SOURCE], PREFIX, timedelta(days=1), NOW, tmp_path)
        assert report.dropped == (old,)
        assert young in report.kept and odd in report.skipped
        assert databases(pg_cluster) == {young, odd}
        assert report.files_removed == (stale_file.name,) and not stale_file.exists()
    finally:
        for name in (young, unprefixed, odd):
            pg_cluster.drop_database(name)


def test_sweeper_leaves_a_database_someone_is_using(pg_cluster):
    old = scratch_name(PREFIX, "platform", NOW - timedelta(days=3))
    pg_cluster.create_database(old, exist_ok=True)
    try:
        with psycopg.connect(pg_cluster.dsn(old)):
            report = sweep(pg_cluster.dsn("postgres"), [SOURCE], PREFIX, timedelta(days=1), NOW)
        assert report.skipped == {old: "in use"} and report.dropped == ()
    finally:
        pg_cluster.drop_database(old)


def test_sweeper_with_the_scratch_connection_equal_to_the_source_drops_nothing(
    settings, source_db, pg_cluster
):
    old = scratch_name(PREFIX, "platform", NOW - timedelta(days=3))
    pg_cluster.create_database(old, exist_ok=True)
    unsafe = replace(settings, scratch_dsn=source_db)
    try:
        with pytest.raises(UnsafeScratch, match="points at the source database"):
            sweep_step(unsafe, now=NOW)
        # Whichever configured source it leads to: a run for another database refuses as well.
        with pytest.raises(UnsafeScratch, match="points at the source database"):
            sweep(source_db, [SOURCE, source_db], PREFIX, timedelta(days=1), NOW)
        assert old in databases(pg_cluster)
    finally:
        pg_cluster.drop_database(old)


def test_teardown_with_the_scratch_connection_equal_to_the_source_drops_nothing(
    settings, source_db, pg_cluster
):
    name = scratch_name(PREFIX, "platform", NOW)
    pg_cluster.create_database(name, exist_ok=True)
    try:
        with pytest.raises(UnsafeScratch, match="points at the source database"):
            drop_scratch_database(source_db, source_db, name, PREFIX)
        assert name in databases(pg_cluster)
    finally:
        pg_cluster.drop_database(name)
