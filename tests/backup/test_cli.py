"""``python -m reliability.backup verify``: JSON on stdout; exit 0 verified, 1 suspicious, 2 otherwise."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.backup.conftest import unique
from tests.backup.faults import pg_dump_file, truncated

ROOT = Path(__file__).resolve().parents[2]


def cli(*args, env=None):
    full_env = {**os.environ, "PYTHONPATH": f"{ROOT / 'include'}{os.pathsep}{ROOT}", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "reliability.backup", "verify", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None, done.stderr


def test_good_file_exits_0_with_tables_rows_and_digests(custom_dump, source_dsn):
    code, result, _ = cli("--file", str(custom_dump), "--source-dsn-env", "SRC", env={"SRC": source_dsn})
    assert code == 0 and result["verdict"] == "verified" and result["catalog_checked"]
    assert result["format"] == "custom" and len(result["sha256"]) == 64
    assert result["tables"]["public.tenants"]["rows"] == 6 and len(result["tables"]) == 8
    assert result["rows"] == sum(t["rows"] for t in result["tables"].values())


def test_truncated_file_exits_2_with_the_reason(custom_dump, tmp_path):
    cut = truncated(custom_dump, custom_dump.stat().st_size // 2, tmp_path / "cut.dump")
    code, result, _ = cli("--file", str(cut))
    assert code == 2 and result["verdict"] == "corrupt"
    assert "pg_restore failed while reading the data of table" in result["reasons"][0]


def test_missing_file_exits_2_as_failed(tmp_path):
    code, result, _ = cli("--file", str(tmp_path / "nope.dump"))
    assert code == 2 and result["verdict"] == "failed" and "cannot open" in result["reasons"][0]


def test_zero_row_large_table_exits_1(pg_cluster, tmp_path):
    dsn = pg_cluster.create_database(unique("bk_cli_emptied"))
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE events (id int) WITH (autovacuum_enabled = false)")
        conn.execute("INSERT INTO events SELECT generate_series(1, 3000)")
        conn.execute("ANALYZE events")
        conn.execute("DELETE FROM events")
    dump = pg_dump_file(dsn, tmp_path / "emptied.dump")
    code, result, _ = cli("--file", str(dump), "--source-dsn-env", "SRC", env={"SRC": dsn})
    assert code == 1 and result["verdict"] == "suspicious"
    assert "public.events (estimated 3,000 rows)" in result["reasons"][0]
    assert pg_cluster.password not in json.dumps(result)


def test_s3_object_is_streamed_and_checked_against_its_manifest(custom_dump, s3_server, s3_client, s3_bucket):
    key = "backups/platform/2026/01/02/platform-20260102T020000Z.dump"
    s3_client.put_object(Bucket=s3_bucket, Key=key, Body=custom_dump.read_bytes())
    aws = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    code, result, _ = cli("--s3-key", key, "--bucket", s3_bucket, "--endpoint-url", s3_server, env=aws)
    assert code == 0 and result["verdict"] == "verified" and not result["manifest_checked"]
    assert result["source"] == f"s3://{s3_bucket}/{key}"

    code, result, _ = cli(
        "--s3-key", key + ".gone", "--bucket", s3_bucket, "--endpoint-url", s3_server, env=aws
    )
    assert code == 2 and result["verdict"] == "failed" and "NoSuchKey" in result["reasons"][0]
