"""The whole job on real components: PostgreSQL + pg_dump/pg_restore, moto's S3 server, the results store."""

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from reliability.backup.models import BackupRequest, BackupTargets, RequestError
from reliability.backup.outcome import to_outcome
from reliability.backup.run import execute
from reliability.backups.databases import DatabaseConfig
from reliability.backups.dumps import DumpRecord, latest_dump, record_dump
from reliability.backups.manifest import Manifest, manifest_key
from reliability.backups.tabledigest import SESSION_SETTINGS, digest_copy_stream
from stack.postgres import PgCluster
from stack.processes import free_port
from tests.backup.conftest import dump_rows, s3_keys, unique
from tests.backup.faults import FailingS3, PartFailure


def request(**kwargs) -> BackupRequest:
    return BackupRequest(**{"database": "platform", "interval_key": "2026-11-28T02:00:00+00:00", **kwargs})


def manifest_of(s3_client, bucket, key) -> Manifest:
    return Manifest.from_json(s3_client.get_object(Bucket=bucket, Key=manifest_key(key))["Body"].read())


def source_digests(dsn, names):
    with psycopg.connect(dsn) as conn:
        for name, value in SESSION_SETTINGS.items():
            conn.execute(f"SET {name} = '{value}'")
        result = {}
        for name in names:
            with conn.cursor().copy(f"COPY {name} TO STDOUT") as copy:
                digest = digest_copy_stream(copy)
            result[name] = (digest.rows, digest.hexdigest)
        return result


def test_new_dump_is_uploaded_verified_and_described_by_its_manifest(config, targets, s3_client, source_dsn):
    result = execute(request(), config, targets)
    assert result.verdict.verdict == "verified", result.verdict.reasons
    assert s3_keys(s3_client, targets.bucket) == [result.dump_key, manifest_key(result.dump_key)]
    assert result.dump_key.startswith("backups/platform/") and result.dump_key.endswith(".dump")

    body = s3_client.get_object(Bucket=targets.bucket, Key=result.dump_key)["Body"].read()
    import hashlib

    manifest = manifest_of(s3_client, targets.bucket, result.dump_key)
    assert (manifest.sha256, manifest.size_bytes) == (hashlib.sha256(body).hexdigest(), len(body))
    assert manifest.verdict == "verified" and manifest.format == "custom" and manifest.compression == 6
    assert manifest.server_version.startswith("15") and manifest.pg_dump_version.startswith("15")
    assert manifest.toc["TABLE"] == 8 and manifest.toc["TABLE DATA"] == 8
    # The digests from the dump's data stream equal those of the live tables: the restore test's contract.
    expected = source_digests(source_dsn, manifest.tables)
    assert {n: (t.rows, t.digest) for n, t in manifest.tables.items()} == expected
    assert manifest.tables["public.pageviews"].columns[:3] == ("id", "site_id", "path")

    assert dump_rows(targets.results_dsn) == [
        (
            request().interval_key,
            "platform",
            "backup",
            "verified",
            True,
            manifest_key(result.dump_key),
            len(body),
            manifest.total_rows,
        )
    ]
    with psycopg.connect(targets.results_dsn) as conn:
        newest = latest_dump(conn, "platform")
        tables = conn.execute(
            "SELECT count(*), sum(rows), min(source_reltuples) FROM reliability.backup_tables"
        ).fetchone()
    assert newest.dump_key == result.dump_key and newest.sha256 == manifest.sha256
    assert tables[0] == 8 and tables[1] == manifest.total_rows and tables[2] > 0


def test_outcome_carries_the_metric_contract_and_no_secret(config, targets, pg_cluster):
    result = execute(request(), config, targets)
    outcome = to_outcome(result)
    assert (outcome.job, outcome.subject, outcome.status, outcome.action) == (
        "backup_verify",
        {"database": "platform"},
        "success",
        "backup.verify",
    )
    metrics = {m.name: m.value for m in outcome.metrics}
    assert set(metrics) == {
        "backup_size_bytes",
        "backup_duration_seconds",
        "backup_verified",
        "backup_suspicious",
        "backup_tables",
        "backup_rows",
        "backup_age_seconds",
        "reliability_verifier_canary_ok",
    }
    assert metrics["reliability_verifier_canary_ok"] == 1
    assert metrics["backup_verified"] == 1 and metrics["backup_suspicious"] == 0
    assert metrics["backup_size_bytes"] == result.size_bytes and metrics["backup_rows"] == result.rows
    assert 0 <= metrics["backup_age_seconds"] < 3600
    assert not outcome.alert
    text = json.dumps(outcome.to_dict())
    assert pg_cluster.password not in text


def test_rerun_of_the_same_interval_keeps_a_row_for_every_dump_it_left_in_s3(config, targets, s3_client):
    first = execute(request(), config, targets)
    second = execute(request(), config, targets)
    assert first.dump_key != second.dump_key
    rows = dump_rows(targets.results_dsn)
    assert [(r[0], r[3], r[4]) for r in rows] == [(request().interval_key, "verified", True)] * 2
    with psycopg.connect(targets.results_dsn) as conn:
        recorded = {k for (k,) in conn.execute("SELECT dump_key FROM reliability.backup_dumps")}
        per_dump = dict(
            conn.execute(
                "SELECT dump_key, count(*) FROM reliability.backup_tables GROUP BY dump_key"
            ).fetchall()
        )
        assert latest_dump(conn, "platform").dump_key == second.dump_key
    dumps = {k for k in s3_keys(s3_client, targets.bucket) if not k.endswith(".manifest.json")}
    assert dumps == recorded == {first.dump_key, second.dump_key}  # no object in S3 without its row
    assert per_dump == {first.dump_key: 8, second.dump_key: 8}
    # The rerun is not compared with the first attempt of its own interval (that would hide a size drop).
    assert first.verdict.verdict == second.verdict.verdict == "verified"


def test_directory_format_with_parallel_jobs_is_stored_as_one_tar(config, targets, s3_client):
    result = execute(request(format="directory", jobs=2, compression=3), config, targets)
    assert result.verdict.verdict == "verified", result.verdict.reasons
    assert result.dump_key.endswith(".dump.tar")
    manifest = manifest_of(s3_client, targets.bucket, result.dump_key)
    assert manifest.format == "directory" and manifest.total_rows == result.rows > 0
    again = execute(request(verify_only_key=result.dump_key, interval_key="verify-dir"), config, targets)
    assert again.verdict.verdict == "verified", again.verdict.reasons
    assert again.sha256 == manifest.sha256 and again.rows == manifest.total_rows


def test_verify_only_mode_reads_back_an_existing_object(config, targets):
    made = execute(request(), config, targets)
    checked = execute(request(verify_only_key=made.dump_key, interval_key="manual-1"), config, targets)
    assert checked.verdict.verdict == "verified"
    assert (checked.sha256, checked.rows, checked.request.mode) == (made.sha256, made.rows, "verify")
    assert checked.manifest_key is None  # the manifest is read, never rewritten
    modes = sorted(r[2] for r in dump_rows(targets.results_dsn))
    assert modes == ["backup", "verify"]


def test_verify_only_detects_an_object_changed_after_its_manifest(config, targets, s3_client):
    made = execute(request(compression=0), config, targets)
    body = bytearray(s3_client.get_object(Bucket=targets.bucket, Key=made.dump_key)["Body"].read())
    # Uncompressed data: pg_restore cannot notice a changed digit, the manifest can.
    at = body.index(b"\ttenant-001\t")  # the slug column of public.tenants
    body[at + 10] = ord("7")
    s3_client.put_object(Bucket=targets.bucket, Key=made.dump_key, Body=bytes(body))
    checked = execute(request(verify_only_key=made.dump_key, interval_key="manual-2"), config, targets)
    assert checked.verdict.verdict == "corrupt"
    assert any("differs from the manifest's" in r for r in checked.verdict.reasons)
    assert any(
        "table contents differ from the manifest's digests: public.tenants" in r
        for r in checked.verdict.reasons
    )


def test_rerun_after_an_attempt_that_left_no_object_replaces_that_attempts_row(config, targets, s3_client):
    failed = execute(request(), config, replace(targets, s3=FailingS3(s3_client, fail_part=1)))
    assert failed.verdict.verdict == "failed" and not failed.uploaded
    second = execute(request(), config, targets)
    assert [(r[3], r[4]) for r in dump_rows(targets.results_dsn)] == [("verified", True)]
    assert s3_keys(s3_client, targets.bucket) == [second.dump_key, manifest_key(second.dump_key)]


@pytest.mark.parametrize(
    "key, message",
    [
        ("backups/platform/2026/01/01/none.dump", "does not exist"),
        ("../../etc/passwd", "'.' or '..' path segments"),
        (
            "backups/nonexistent/2026/01/01/x.dump",
            "not under a configured database's prefix (backups/platform/)",
        ),
        ("backups/platform/../../etc/passwd", "'.' or '..' path segments"),
    ],
)
def test_verify_only_of_a_key_that_is_no_dump_of_the_database_is_an_error_and_records_nothing(
    config, targets, s3_client, key, message
):
    nightly = execute(request(), config, targets)
    before = dump_rows(targets.results_dsn)
    with pytest.raises(RequestError, match=re.escape(message)):
        execute(request(verify_only_key=key, interval_key="manual-typo"), config, targets)
    assert dump_rows(targets.results_dsn) == before and before[0][3] == "verified"
    assert s3_keys(s3_client, targets.bucket) == [nightly.dump_key, manifest_key(nightly.dump_key)]


def test_sudden_size_drop_against_recent_dumps_is_suspicious(config, targets):
    now = datetime.now(UTC)
    with psycopg.connect(targets.results_dsn) as conn:
        for day in range(1, 4):
            record_dump(
                conn,
                DumpRecord(
                    interval_key=f"past-{day}",
                    database="platform",
                    mode="backup",
                    verdict="verified",
                    bucket="b",
                    dump_key=f"k{day}",
                    uploaded=True,
                    started_at=now - timedelta(days=day),
                    finished_at=now - timedelta(days=day),
                    format="custom",
                    compression=6,
                    dumped_at=now - timedelta(days=day),
                    size_bytes=50_000_000,
                    rows=15_000,
                ),
            )
    result = execute(request(), config, targets)
    assert result.verdict.verdict == "suspicious"
    assert "smaller than the median of the last 3 verified dump(s)" in result.verdict.reasons[0]
    outcome = to_outcome(result)
    metrics = {m.name: m.value for m in outcome.metrics}
    assert (outcome.status, outcome.alert, metrics["backup_verified"], metrics["backup_suspicious"]) == (
        "warning",
        True,
        1.0,
        1.0,
    )


def test_large_table_that_dumped_zero_rows_is_suspicious(
    pg_cluster, config, s3_client, s3_bucket, results_dsn
):
    dsn = pg_cluster.create_database(unique("bk_emptied"))
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE events (id int) WITH (autovacuum_enabled = false)")
        conn.execute("INSERT INTO events SELECT generate_series(1, 5000)")
        conn.execute("ANALYZE events")
        conn.execute("DELETE FROM events")
    targets = BackupTargets(dsn, s3_client, s3_bucket, results_dsn)
    result = execute(request(), config, targets)
    assert result.verdict.verdict == "suspicious"
    assert result.verdict.reasons == (
        "large table(s) dumped zero rows: public.events (estimated 5,000 rows)",
    )


def test_excluded_tables_are_neither_dumped_nor_expected(source_dsn, config, targets, s3_client):
    config = replace(config, databases=(DatabaseConfig("platform", exclude_tables=("public.page*",)),))
    result = execute(request(), config, targets)
    assert result.verdict.verdict == "verified", result.verdict.reasons
    assert "public.pageviews" not in result.tables and "public.leads" in result.tables


def test_pg_dump_refused_a_table_is_a_failure_with_the_reason(
    pg_cluster, source_dsn, config, s3_client, s3_bucket, results_dsn
):
    role, password = unique("bk_reader"), "reader-secret-Zq9"
    dbname = psycopg.conninfo.conninfo_to_dict(source_dsn)["dbname"]
    with pg_cluster.connect(dbname, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        conn.execute(f"GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        conn.execute(f"REVOKE SELECT ON leads FROM {role}")
    dsn = f"postgresql://{role}:{password}@{pg_cluster.host}:{pg_cluster.port}/{dbname}"
    result = execute(request(), config, BackupTargets(dsn, s3_client, s3_bucket, results_dsn))
    assert result.verdict.verdict == "failed"
    assert result.verdict.reasons[0].startswith("pg_dump exited with status 1: ")
    assert "permission denied for table leads" in result.verdict.reasons[0]
    assert s3_keys(s3_client, s3_bucket) == []
    assert s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    assert [r[3] for r in dump_rows(results_dsn)] == ["failed"]
    assert password not in json.dumps(to_outcome(result).to_dict())


def test_upload_failing_mid_way_leaves_no_object_no_manifest_no_verified_row(
    padded_dsn, config, s3_client, s3_bucket, results_dsn
):
    failing = FailingS3(s3_client, fail_part=2)
    result = execute(
        request(compression=0), config, BackupTargets(padded_dsn, failing, s3_bucket, results_dsn)
    )
    assert failing.parts_attempted[:2] == [1, 2]
    assert result.verdict.verdict == "failed"
    assert "upload of part 2 of s3://" in result.verdict.reasons[0]
    assert "the multipart upload was aborted and no manifest was written" in result.verdict.reasons[0]
    assert s3_keys(s3_client, s3_bucket) == []
    assert s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    rows = dump_rows(results_dsn)
    assert [(r[3], r[4], r[5]) for r in rows] == [("failed", False, None)]
    with psycopg.connect(results_dsn) as conn:
        assert latest_dump(conn, "platform", verdicts=("verified", "suspicious")) is None
    assert {m.name: m.value for m in to_outcome(result).metrics}["backup_verified"] == 0


def test_multipart_dump_completes_when_every_part_succeeds(
    padded_dsn, config, s3_client, s3_bucket, results_dsn
):
    result = execute(
        request(compression=0), config, BackupTargets(padded_dsn, s3_client, s3_bucket, results_dsn)
    )
    assert result.verdict.verdict == "verified", result.verdict.reasons
    head = s3_client.head_object(Bucket=s3_bucket, Key=result.dump_key)
    assert head["ContentLength"] == result.size_bytes > 2 * config.part_size_bytes


def test_server_stopped_mid_dump_is_a_failure_with_the_reason(
    stack_dir, config, s3_client, s3_bucket, results_dsn
):
    """Its own cluster: stopping the session's would break the other tests."""
    cluster = PgCluster.create(stack_dir / unique("pg_doomed"), port=free_port())
    cluster.start()
    try:
        dsn = cluster.create_database("doomed")
        with psycopg.connect(dsn) as conn:
            conn.execute("CREATE TABLE filler (id int, body text)")
            conn.execute(
                "INSERT INTO filler SELECT g, repeat(md5(g::text), 40) FROM generate_series(1, 30000) g"
            )
        # When part 1 is sent the reader has ~5 MiB of a ~40 MB dump; the bounded queue then holds pg_dump
        # back, so the server goes away while pg_dump is in the middle of the table's data.
        stopping = FailingS3(s3_client, fail_part=1, before=lambda: cluster.stop("immediate"), fail=False)
        result = execute(request(compression=0), config, BackupTargets(dsn, stopping, s3_bucket, results_dsn))
    finally:
        cluster.destroy()
    assert result.verdict.verdict == "failed"
    reason = result.verdict.reasons[0]
    assert reason.startswith("pg_dump exited with status 1: ") and "filler" in reason
    assert s3_keys(s3_client, s3_bucket) == []
    assert s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_source_unreachable_fails_before_any_upload(config, s3_client, s3_bucket, results_dsn):
    dsn = f"postgresql://nobody:pw-Xy7@127.0.0.1:{free_port()}/platform"
    result = execute(request(), config, BackupTargets(dsn, s3_client, s3_bucket, results_dsn))
    assert result.verdict.verdict == "failed"
    assert result.verdict.reasons[0].startswith("could not read the source catalog: ")
    assert "pw-Xy7" not in result.verdict.reasons[0]
    assert s3_keys(s3_client, s3_bucket) == []


def test_without_results_store_the_job_still_verifies(config, source_dsn, s3_client, s3_bucket):
    result = execute(request(), config, BackupTargets(source_dsn, s3_client, s3_bucket, results_dsn=None))
    assert result.verdict.verdict == "verified" and result.store_error is None


def test_unwritable_results_store_is_reported_not_hidden(config, source_dsn, s3_client, s3_bucket):
    dsn = f"postgresql://nobody:pw-Xy7@127.0.0.1:{free_port()}/results"
    result = execute(request(), config, BackupTargets(source_dsn, s3_client, s3_bucket, results_dsn=dsn))
    assert result.verdict.verdict == "verified" and result.store_error
    outcome = to_outcome(result)
    assert (
        outcome.alert and "not stored" in outcome.headline and "pw-Xy7" not in json.dumps(outcome.to_dict())
    )


def test_rows_the_store_missed_are_written_when_publishing_reaches_it(
    config, source_dsn, s3_client, s3_bucket, results_dsn, tmp_path
):
    """Store down during the dump: the rows travel as JSON with the outcome (XCom) and publishing's store
    step writes them once the store answers, as the verified dump the restore test will look for."""
    from reliability.backups.dumps import rows_from_json
    from reliability.core.publish import PublishTargets, publish

    down = f"postgresql://nobody:pw-Xy7@127.0.0.1:{free_port()}/results"
    req = request()
    result = execute(req, config, BackupTargets(source_dsn, s3_client, s3_bucket, results_dsn=down))
    assert result.verdict.verdict == "verified" and result.unstored_rows
    carried = json.loads(json.dumps(result.unstored_rows))  # what XCom keeps
    assert "pw-Xy7" not in json.dumps(carried)
    record, tables = rows_from_json(carried)
    assert (record.dump_key, record.verdict, len(tables)) == (result.dump_key, "verified", len(result.tables))

    def store_rows(conn):
        record_dump(conn, record, tables)

    targets = PublishTargets(results_dsn, None, None, tmp_path / "monitor.log", interval_key=req.interval_key)
    publish([to_outcome(result)], targets, store_rows)
    with psycopg.connect(results_dsn) as conn:
        stored = latest_dump(conn, req.database, verdicts=("verified",))
        n_tables = conn.execute(
            "SELECT count(*) FROM reliability.backup_tables WHERE dump_key = %s", (result.dump_key,)
        ).fetchone()[0]
    assert stored.dump_key == result.dump_key and stored.dumped_at == result.dumped_at
    assert n_tables == len(result.tables)


def test_dump_file_written_by_the_job_can_be_restored_by_pg_restore(config, targets, s3_client, tmp_path):
    """The object is a normal custom-format archive: pg_restore --list reads it from a file too."""
    import subprocess

    from reliability.backups.pgclient import client_binary

    result = execute(request(), config, targets)
    path = Path(tmp_path / "got.dump")
    path.write_bytes(s3_client.get_object(Bucket=targets.bucket, Key=result.dump_key)["Body"].read())
    listing = subprocess.run(
        [client_binary("pg_restore"), "--list", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "TABLE DATA public pageviews" in listing


def test_manifest_that_cannot_be_written_makes_the_backup_failed(config, targets, s3_client):
    class NoManifests(FailingS3):
        def put_object(self, **kwargs):
            raise PartFailure("injected: manifest write refused (AccessDenied)")

    result = execute(request(), config, replace(targets, s3=NoManifests(s3_client, fail_part=0)))
    assert result.verdict.verdict == "failed" and result.manifest_key is None
    assert (
        "its manifest s3://" in result.verdict.reasons[-1]
        and "could not be written" in result.verdict.reasons[-1]
    )
    with psycopg.connect(targets.results_dsn) as conn:
        assert latest_dump(conn, "platform", verdicts=("verified", "suspicious")) is None


def test_a_new_dump_never_overwrites_an_object_under_the_key_it_would_get(config, targets, s3_client):
    """Keys are stamped to the second: a rerun in the same second must wait for a free key."""
    now = datetime.now(UTC)
    taken = {config.dump_key("platform", now + timedelta(seconds=s), "custom") for s in range(3)}
    for key in taken:
        s3_client.put_object(Bucket=targets.bucket, Key=key, Body=b"an earlier dump")
    result = execute(request(), config, targets)
    assert result.verdict.verdict == "verified" and result.dump_key not in taken
    for key in taken:
        assert s3_client.get_object(Bucket=targets.bucket, Key=key)["Body"].read() == b"an earlier dump"
