"""Content digests of restored tables, read back with ``COPY ... TO STDOUT`` in parallel processes.

Hashing every row is Python work (one BLAKE2b per row), so it runs in a pool of processes, one table
slice each. Big tables are cut into block ranges (``ctid`` range scans, PostgreSQL 14+); the digest is a
sum modulo 2**128, so the slices' digests add up to the table's. ``psql`` streams the COPY text in big
chunks (a Python client would hand it over one row at a time, twice as slow), with the session settings
of :data:`reliability.backups.tabledigest.SESSION_SETTINGS` so the text is byte-identical to the dump's.

Units can be submitted while pg_restore is still running (as each table's data lands), which is how the
restore step overlaps digesting with index builds.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from reliability.backups.tabledigest import SESSION_SETTINGS, digest_copy_stream

_MOD = 1 << 128  # tabledigest's modulus: digests of disjoint row sets add up modulo this
READ_CHUNK = 1 << 20
# Tables above this many 8 KiB blocks (~64 MiB) are split, so two workers can share one big table.
SPLIT_BLOCKS = 8192


@dataclass(frozen=True)
class TableDigestResult:
    schema: str
    table: str
    rows: int
    digest: str


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def copy_statement(schema: str, table: str, columns: tuple[str, ...], blocks: tuple[int, int] | None) -> str:
    """COPY of the given columns, in order, optionally only blocks [start, end) of the heap."""
    cols = ", ".join(_quote(c) for c in columns)
    relation = f"{_quote(schema)}.{_quote(table)}"
    if blocks is None:
        return f"COPY {relation} ({cols}) TO STDOUT"
    start, end = blocks
    return (
        f"COPY (SELECT {cols} FROM ONLY {relation} WHERE ctid >= '({start},0)'::tid "
        f"AND ctid < '({end},0)'::tid) TO STDOUT"
    )


def _psql_argv_env(dsn: str) -> tuple[list[str], dict[str, str]]:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from reliability.backups.pgclient import client_binary

    params = conninfo_to_dict(dsn)
    password = params.pop("password", None)
    params["options"] = " ".join(f"-c {k}={v}" for k, v in SESSION_SETTINGS.items())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return [client_binary("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", make_conninfo(**params)], env


def digest_unit(
    dsn: str, schema: str, table: str, columns: tuple[str, ...], blocks: tuple[int, int] | None
) -> tuple[int, int]:
    """Rows and digest accumulator of one table or one block range (runs in a worker process)."""
    argv, env = _psql_argv_env(dsn)
    process = subprocess.Popen(
        [*argv, "-c", copy_statement(schema, table, columns, blocks)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )

    def chunks():
        while chunk := process.stdout.read1(READ_CHUNK):
            yield chunk

    digest = digest_copy_stream(chunks())
    stderr = process.stderr.read().decode("utf-8", "replace").strip()
    if process.wait() != 0:
        raise RuntimeError(f"COPY of {schema}.{table} failed: {stderr[-500:]}")
    return digest.rows, int(digest.hexdigest, 16)


class DigestPool:
    """Digest tables in ``workers`` processes; submit tables as they become ready, collect at the end."""

    def __init__(self, dsn: str, workers: int, niceness: int = 0):
        """``niceness`` > 0 makes the workers yield the CPU to everything else (e.g. a running pg_restore)."""
        self.dsn = dsn
        # spawn, not fork: the parent may be running threads (GX, pg_restore's reader) when the pool starts.
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=os.nice,
            initargs=(niceness,),
        )
        self._units: dict[tuple[str, str], list[Future]] = {}
        self._conn = None

    def _blocks(self, schema: str, table: str) -> int:
        import psycopg

        if self._conn is None:
            self._conn = psycopg.connect(self.dsn, autocommit=True)
        if self._conn.info.server_version < 140000:
            return 0  # no TID range scans before 14: every slice would read the whole table
        row = self._conn.execute(
            "SELECT pg_relation_size(c.oid) / current_setting('block_size')::int FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
            (schema, table),
        ).fetchone()
        return int(row[0]) if row else 0

    def submit(self, schema: str, table: str, columns: tuple[str, ...]) -> None:
        if (schema, table) in self._units:
            return
        blocks = self._blocks(schema, table)
        if blocks <= SPLIT_BLOCKS:
            ranges: list[tuple[int, int] | None] = [None]
        else:
            # Slices of SPLIT_BLOCKS; the last one is open-ended in case the table grew since it was measured.
            starts = list(range(0, blocks, SPLIT_BLOCKS))
            ranges = [(s, s + SPLIT_BLOCKS) for s in starts[:-1]] + [(starts[-1], 2**32 - 1)]
        self._units[(schema, table)] = [
            self._pool.submit(digest_unit, self.dsn, schema, table, columns, r) for r in ranges
        ]

    def submitted(self, schema: str, table: str) -> bool:
        return (schema, table) in self._units

    def results(self) -> dict[tuple[str, str], TableDigestResult | Exception]:
        """Wait for every submitted table; a failed COPY is returned as its exception, not raised."""
        found: dict[tuple[str, str], TableDigestResult | Exception] = {}
        for (schema, table), futures in self._units.items():
            try:
                parts = [f.result() for f in futures]
            except Exception as exc:  # reported per table by the caller
                found[(schema, table)] = exc
                continue
            found[(schema, table)] = TableDigestResult(
                schema, table, rows=sum(r for r, _ in parts), digest=f"{sum(a for _, a in parts) % _MOD:032x}"
            )
        return found

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._conn is not None:
            self._conn.close()

    def __enter__(self) -> DigestPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
