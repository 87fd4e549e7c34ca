"""Connections to the results store and its versioned migrations.

Migrations are the numbered ``migrations/NNN_name.sql`` files, applied in order, each once, inside one
transaction per file and under an advisory lock, so two workers migrating at once cannot race. A file
that changed after it was applied is an error: migrations are append-only history.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_ID = 0x5E11AB1E  # any constant shared by every migrator
_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    pass


def connect(dsn: str, **kwargs):
    import psycopg

    return psycopg.connect(dsn, **kwargs)


def migration_files() -> list[tuple[str, str, Path]]:
    found = []
    for path in sorted(MIGRATIONS.iterdir()):
        match = _NAME.match(path.name)
        if match:
            found.append((match.group(1), match.group(2), path))
        elif path.suffix == ".sql":
            raise MigrationError(f"migration file {path.name} does not follow NNN_name.sql")
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration numbers in {MIGRATIONS}: {versions}")
    return found


def migrate(dsn: str) -> list[str]:
    """Apply the migrations not applied yet; return the names of those applied now."""
    applied_now = []
    with connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            conn.execute("CREATE SCHEMA IF NOT EXISTS reliability")
            conn.execute("""CREATE TABLE IF NOT EXISTS reliability.schema_migrations (
                                version text PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL,
                                applied_at timestamptz NOT NULL DEFAULT now())""")
            done = dict(conn.execute("SELECT version, sha256 FROM reliability.schema_migrations").fetchall())
            for version, name, path in migration_files():
                text = path.read_text()
                digest = hashlib.sha256(text.encode()).hexdigest()
                if version in done:
                    if done[version] != digest:
                        raise MigrationError(
                            f"migration {path.name} changed after it was applied; "
                            "add a new migration instead of editing an applied one"
                        )
                    continue
                with conn.transaction():
                    conn.execute(text)
                    conn.execute(
                        "INSERT INTO reliability.schema_migrations (version, name, sha256) "
                        "VALUES (%s, %s, %s)",
                        (version, name, digest),
                    )
                applied_now.append(f"{version}_{name}")
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
    return applied_now
