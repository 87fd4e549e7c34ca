"""Backups for the restore test: a seeded source database, real pg_dump, manifests, the moto S3 server.

``make_backup`` writes what backup_verify writes (a dump object and its ``.manifest.json`` under
``backups/<db>/YYYY/MM/DD/``) with the table rows and digests taken from a database over COPY, the same
way the backup job's contract defines them. Faults are made by changing the bytes uploaded or the
database the manifest is computed from.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reliability.backups.manifest import Manifest, TableEntry, manifest_key
from reliability.backups.pgclient import ClientConnection, client_binary
from reliability.backups.tabledigest import SESSION_SETTINGS, TableDigest
from reliability.restore.config import parse_config
from reliability.restore.state import Settings
from stack.platform import seed_platform

DATABASE = "platform"  # the backup label, as in restore.yaml


def table_contents(dsn: str) -> dict[str, TableEntry]:
    """Rows, digest and COPY column list of every public table, read the way the backup job reads them."""
    import psycopg

    tables = {}
    with psycopg.connect(dsn) as conn:
        for name, value in SESSION_SETTINGS.items():
            conn.execute(f"SET {name} = '{value}'")
        names = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        for name in names:
            columns = tuple(
                r[0]
                for r in conn.execute(
                    """SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0
                   AND NOT attisdropped AND attgenerated = '' ORDER BY attnum""",
                    (f'public."{name}"',),
                )
            )
            digest = TableDigest()
            with conn.cursor().copy(f'COPY public."{name}" TO STDOUT') as copy:
                digest.add_lines([bytes(row)[:-1] for row in copy])
            qualified = f"public.{name}" if name.isidentifier() and name.islower() else f'public."{name}"'
            tables[qualified] = TableEntry(rows=digest.rows, digest=digest.hexdigest, columns=columns)
    return tables


def pg_dump(dsn: str, fmt: str = "custom") -> bytes:
    client = ClientConnection.from_dsn(dsn)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "dump"
        subprocess.run(
            [
                client_binary("pg_dump"),
                "-F",
                "d" if fmt == "directory" else "c",
                "-f",
                str(target),
                "-d",
                client.conninfo,
            ],
            check=True,
            env=client.env(),
            capture_output=True,
        )
        if fmt != "directory":
            return target.read_bytes()
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            archive.add(target, arcname=".")
        return buffer.getvalue()


@pytest.fixture(scope="session")
def source_db(pg_cluster):
    """The platform database the backups are taken of (small; never modified by tests)."""
    name = f"platform_src_{uuid.uuid4().hex[:8]}"
    dsn = pg_cluster.create_database(name)
    seed_platform(dsn, scale=0.02)
    return dsn


@pytest.fixture
def make_backup(s3_client, s3_bucket, source_db, pg_cluster):
    """``make_backup(**options) -> dump key``: dump + manifest uploaded to the test's bucket.

    Options: ``dump_from`` (dsn dumped, default the source), ``manifest_from`` (dsn the tables are read
    from, default the dumped one), ``transform`` (bytes -> bytes applied to the dump *after* the manifest's
    SHA-256 was taken, i.e. corruption in storage), ``hash_transformed`` (take size and SHA-256 of the
    transformed bytes instead: a bad dump the backup job hashed), ``verdict``, ``age`` (of the snapshot),
    ``fmt`` (custom | directory).
    """

    def make(
        *,
        dump_from: str | None = None,
        manifest_from: str | None = None,
        transform: Callable[[bytes], bytes] | None = None,
        hash_transformed: bool = False,
        verdict: str = "verified",
        age: timedelta = timedelta(hours=2),
        fmt: str = "custom",
    ) -> str:
        dumped = dump_from or source_db
        data = pg_dump(dumped, fmt)
        stored = transform(data) if transform else data
        hashed = stored if hash_transformed else data
        started = datetime.now(UTC) - age
        key = (
            f"backups/{DATABASE}/{started:%Y/%m/%d}/{DATABASE}-{started:%Y%m%dT%H%M%S}"
            f"{uuid.uuid4().hex[:4]}Z.dump" + (".tar" if fmt == "directory" else "")
        )
        manifest = Manifest(
            database=DATABASE,
            dump_key=key,
            format=fmt,
            compression=6,
            server_version="15",
            pg_dump_version="15",
            started_at=started.isoformat(),
            finished_at=(started + timedelta(seconds=5)).isoformat(),
            size_bytes=len(hashed),
            sha256=hashlib.sha256(hashed).hexdigest(),
            tables=table_contents(manifest_from or dumped),
            toc={},
            verdict=verdict,
        )
        s3_client.put_object(Bucket=s3_bucket, Key=key, Body=stored)
        s3_client.put_object(Bucket=s3_bucket, Key=manifest_key(key), Body=manifest.to_json().encode())
        return key

    return make


@pytest.fixture
def scratch_copy(pg_cluster, source_db):
    """``scratch_copy(*sql) -> dsn``: a copy of the source with ``sql`` applied (dropped afterwards)."""
    import psycopg

    made = []

    def copy(*statements: str) -> str:
        name = f"platform_copy_{uuid.uuid4().hex[:8]}"
        source_name = source_db.rsplit("/", 1)[1]
        with pg_cluster.connect(autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source_name}"')
        made.append(name)
        dsn = pg_cluster.dsn(name)
        with psycopg.connect(dsn) as conn:
            for statement in statements:
                conn.execute(statement)
        return dsn

    yield copy
    for name in made:
        pg_cluster.drop_database(name)


@pytest.fixture
def expectations_file(tmp_path):
    """Path of the project's expectations file, or a custom one: ``expectations_file(yaml_text)``."""

    def write(text: str | None = None) -> str:
        if text is None:
            return str(Path(__file__).resolve().parents[2] / "include" / "config" / "expectations.yaml")
        path = tmp_path / "expectations.yaml"
        path.write_text(text)
        return str(path)

    return write


@pytest.fixture
def settings(pg_cluster, source_db, s3_client, s3_bucket, results_dsn, tmp_path, expectations_file):
    """Settings on the test servers; scratch databases are made on the same cluster as the source."""
    config = parse_config(
        {
            "databases": [{"name": DATABASE}],
            "scratch": {"prefix": "restore_test_"},
            "restore": {"jobs": 2, "download_dir": str(tmp_path / "downloads")},
            "validate": {"expectations_file": expectations_file()},
        },
        source="test restore config",
    )
    return Settings(
        config=config,
        scratch_dsn=pg_cluster.dsn("postgres"),
        source_dsn=source_db,
        s3=s3_client,
        bucket=s3_bucket,
        results_dsn=results_dsn,
    )


def with_config(settings: Settings, **changes) -> Settings:
    return replace(settings, config=replace(settings.config, **changes))


def databases(pg_cluster, prefix: str = "restore_test_") -> set[str]:
    with pg_cluster.connect() as conn:
        return {
            r[0]
            for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix.replace("_", r"\_") + "%",)
            )
        }


@pytest.fixture
def fresh_db(pg_cluster):
    """An empty database of the test cluster, for hand-made damage (dropped afterwards)."""
    name = f"validate_{uuid.uuid4().hex[:8]}"
    dsn = pg_cluster.create_database(name)
    yield dsn
    pg_cluster.drop_database(name)


def manifest_of(dsn: str) -> Manifest:
    return Manifest(
        database=DATABASE,
        dump_key="k",
        format="custom",
        compression=6,
        server_version="15",
        pg_dump_version="15",
        started_at="2026-11-29T02:00:00+00:00",
        finished_at="2026-11-29T02:00:05+00:00",
        size_bytes=1,
        sha256="0" * 64,
        tables=table_contents(dsn),
        toc={},
        verdict="verified",
    )
