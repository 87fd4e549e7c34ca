"""Scratch databases: naming, the safety checks before creating or dropping one, and the sweeper.

Safety rules, each enforced here and nowhere else:
- the scratch connection must not point at the source database (same host, port and name);
- only names of the form ``<prefix><database>_<yyyymmddhhmm>`` are ever created or dropped;
- identifiers always go through :class:`psycopg.sql.Identifier`, never string formatting.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reliability.restore.download import remove_download
from reliability.restore.errors import UnsafeScratch

log = logging.getLogger(__name__)
STAMP_FORMAT = "%Y%m%d%H%M"
_MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1; longer names are silently truncated by the server
DEFAULT_PORT = 5432


def scratch_name(prefix: str, database: str, when: datetime) -> str:
    """``restore_test_<db>_<yyyymmddhhmm>`` (UTC), with the database part shortened to fit 63 bytes."""
    stamp = when.astimezone(UTC).strftime(STAMP_FORMAT)
    db = re.sub(r"[^a-z0-9_]", "_", database.lower()).strip("_") or "db"
    room = _MAX_IDENTIFIER - len(prefix) - 1 - len(stamp)
    return f"{prefix}{db[:room].rstrip('_') or 'db'}_{stamp}"


def _pattern(prefix: str) -> re.Pattern:
    return re.compile(rf"^{re.escape(prefix)}[a-z0-9_]+_(\d{{12}})$")


def is_scratch_name(prefix: str, name: str) -> bool:
    return bool(prefix) and len(name) <= _MAX_IDENTIFIER and bool(_pattern(prefix).match(name))


def created_at(prefix: str, name: str) -> datetime | None:
    """When a scratch database was made, from the stamp in its name (PostgreSQL keeps no creation time)."""
    match = _pattern(prefix).match(name)
    if not match:
        return None
    try:
        return datetime.strptime(match.group(1), STAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True)
class Endpoint:
    """Where a connection string leads: host, port and database name (no credentials)."""

    host: str
    port: int
    dbname: str

    @classmethod
    def from_dsn(cls, dsn: str) -> Endpoint:
        from psycopg.conninfo import conninfo_to_dict

        params = conninfo_to_dict(dsn)
        # A multi-host string is compared on its first host: the one a fresh connection tries first.
        host = str(params.get("host") or params.get("hostaddr") or "").split(",")[0]
        port = str(params.get("port") or DEFAULT_PORT).split(",")[0]
        return cls(host=host, port=int(port), dbname=str(params.get("dbname") or params.get("user") or ""))

    def __str__(self) -> str:
        return f"{self.dbname} on {self.host or 'the local socket'}:{self.port}"


def _host_ids(host: str) -> set[str]:
    """Identities of a host for comparison: the local machine (socket or loopback) is one identity."""
    if not host or host.startswith("/") or host.lower() == "localhost":
        return {"local"}
    ids = {host.lower()}
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        addresses = set()
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        ids.add("local" if ip.is_loopback else str(ip))
    return ids


def same_server(a: Endpoint, b: Endpoint) -> bool:
    # When in doubt the answer is "same": a false alarm stops a test, a miss could drop production.
    return a.port == b.port and bool(_host_ids(a.host) & _host_ids(b.host))


def check_scratch_target(
    scratch_dsn: str, source_dsns: str | Sequence[str], name: str | None, prefix: str
) -> None:
    """Refuse (:class:`UnsafeScratch`) unless creating or dropping ``name`` over ``scratch_dsn`` cannot
    touch a source database. Every step that creates or drops (the run's, the teardown, the sweeper)
    passes this one guard; ``name`` None checks the connection alone (the sweeper, before listing)."""
    scratch = Endpoint.from_dsn(scratch_dsn)
    for source_dsn in (source_dsns,) if isinstance(source_dsns, str) else source_dsns:
        source = Endpoint.from_dsn(source_dsn)
        if same_server(scratch, source) and scratch.dbname == source.dbname:
            raise UnsafeScratch(
                f"the scratch connection points at the source database ({source}); refusing to create "
                "or drop anything there. Point reliability_scratch_db at a scratch server or at "
                "another database (e.g. postgres) of a server used only for restore tests"
            )
        if same_server(scratch, source) and name == source.dbname:
            raise UnsafeScratch(
                f"scratch database name {name!r} is the source database's name on the same server"
            )
    if name is None:
        return
    if not is_scratch_name(prefix, name):
        raise UnsafeScratch(
            f"{name!r} is not a scratch database name ({prefix}<database>_<yyyymmddhhmm>); "
            "refusing to create or drop it"
        )
    if name == scratch.dbname:
        raise UnsafeScratch(f"refusing to drop {name!r}: it is the scratch connection's own database")


def _admin(scratch_dsn: str):
    import psycopg

    return psycopg.connect(scratch_dsn, autocommit=True, connect_timeout=30)


def create_scratch_database(scratch_dsn: str, source_dsn: str, name: str, prefix: str) -> str:
    """Create ``name`` (replacing a leftover of the same name) and return a connection string to it."""
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    check_scratch_target(scratch_dsn, source_dsn, name, prefix)
    with _admin(scratch_dsn) as conn:
        # A leftover of this very run (a retried task) is ours to replace: same prefix, database and minute.
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        # template0: nothing added to template1 on the scratch server can collide with the dump's objects.
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    return make_conninfo(scratch_dsn, dbname=name)


def user_relations(dsn: str) -> int:
    """Tables, sequences, views... outside the system schemas: zero in a database just created from template0."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True, connect_timeout=30) as conn:
        return conn.execute("""SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                               WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
                                 AND n.nspname NOT LIKE 'pg\\_toast%%'""").fetchone()[0]


def drop_scratch_database(scratch_dsn: str, source_dsn: str, name: str, prefix: str) -> bool:
    """Drop ``name`` if it is a scratch database; ``True`` if it existed. Sessions in it are ended."""
    from psycopg import sql

    check_scratch_target(scratch_dsn, source_dsn, name, prefix)
    with _admin(scratch_dsn) as conn:
        existed = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    return existed


@dataclass(frozen=True)
class SweepReport:
    dropped: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()  # young enough to be a run in progress or a database kept for debugging
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why it was left alone
    files_removed: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "dropped": list(self.dropped),
            "kept": list(self.kept),
            "skipped": dict(self.skipped),
            "files_removed": list(self.files_removed),
        }


def sweep(
    scratch_dsn: str,
    source_dsns: Sequence[str],
    prefix: str,
    older_than: timedelta,
    now: datetime,
    download_dir: str | Path | None = None,
) -> SweepReport:
    """Drop scratch databases (and downloaded dumps) older than ``older_than``; nothing else.

    A database someone is connected to is left alone (DROP without FORCE): that is a person debugging a
    kept scratch database, and the next sweep will get it. A scratch connection that leads to a source
    database (any of ``source_dsns``) is refused before anything is listed (:class:`UnsafeScratch`).
    """
    import psycopg
    from psycopg import sql

    check_scratch_target(scratch_dsn, source_dsns, None, prefix)
    cutoff = now - older_than
    dropped, kept, skipped = [], [], {}
    with _admin(scratch_dsn) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT datname FROM pg_database WHERE left(datname, length(%s)) = %s ORDER BY datname",
                (prefix, prefix),
            )
        ]
        for name in names:
            made = created_at(prefix, name)
            if made is None:
                skipped[name] = "name does not follow <prefix><database>_<yyyymmddhhmm>"
                continue
            try:
                check_scratch_target(scratch_dsn, source_dsns, name, prefix)
            except UnsafeScratch as exc:
                skipped[name] = exc.message
                continue
            if made > cutoff:
                kept.append(name)
                continue
            # Checked first because DROP DATABASE waits five seconds before giving up on a used database.
            if conn.execute("SELECT 1 FROM pg_stat_activity WHERE datname = %s LIMIT 1", (name,)).fetchone():
                skipped[name] = "in use"
                continue
            try:
                conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
                dropped.append(name)
            except psycopg.errors.ObjectInUse:
                skipped[name] = "in use"
    files = []
    if download_dir and Path(download_dir).is_dir():
        limit = time.time() - older_than.total_seconds()
        for path in Path(download_dir).iterdir():
            if path.name.startswith(prefix) and path.stat().st_mtime < limit:
                remove_download(str(path))
                files.append(path.name)
    if dropped or skipped:
        log.info("scratch sweep: dropped %s, skipped %s", dropped, skipped)
    return SweepReport(dropped=tuple(dropped), kept=tuple(kept), skipped=skipped, files_removed=tuple(files))
