"""Databases and dumps for the backup tests, on the session's PostgreSQL cluster and S3 server."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from reliability.backup.config import BackupConfig
from reliability.backup.models import BackupTargets
from reliability.backups.databases import DatabaseConfig
from stack.platform import seed_platform
from tests.backup.faults import pg_dump_file

MIB = 1024 * 1024


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def source_dsn(pg_cluster):
    """A small seeded platform database (about 15,000 rows); tests only read it."""
    dsn = pg_cluster.create_database(unique("bk_source"))
    seed_platform(dsn, 0.05)
    return dsn


@pytest.fixture(scope="session")
def padded_dsn(pg_cluster):
    """A platform database plus ~16 MB of text, so an uncompressed dump spans several 5 MiB parts."""
    import psycopg

    dsn = pg_cluster.create_database(unique("bk_padded"))
    seed_platform(dsn, 0.02)
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE padding (id int PRIMARY KEY, body text)")
        conn.execute(
            "INSERT INTO padding SELECT g, repeat(md5(g::text), 32) FROM generate_series(1, 16000) g"
        )
        conn.execute("ANALYZE padding")
    return dsn


@pytest.fixture(scope="session")
def dump_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("dumps")


@pytest.fixture(scope="session")
def custom_dump(source_dsn, dump_dir) -> Path:
    """A good custom-format dump of ``source_dsn`` made by plain pg_dump."""
    return pg_dump_file(source_dsn, dump_dir / "source.dump")


@pytest.fixture
def config() -> BackupConfig:
    return BackupConfig(databases=(DatabaseConfig(name="platform"),), part_size_bytes=5 * MIB)


@pytest.fixture
def targets(source_dsn, s3_client, s3_bucket, results_dsn) -> BackupTargets:
    return BackupTargets(source_dsn=source_dsn, s3=s3_client, bucket=s3_bucket, results_dsn=results_dsn)


def s3_keys(s3_client, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", []))


def dump_rows(dsn: str) -> list[tuple]:
    """The backup job's detail rows in a results store, for assertions."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT interval_key, database, mode, verdict, uploaded, manifest_key, size_bytes, rows "
            "FROM reliability.backup_dumps ORDER BY recorded_at"
        ).fetchall()
