"""pg_amcheck on the restored database: its B-tree indexes consistent with their tables.

It runs as a child process in the background while the digests and GX read the tables; its report is
read afterwards and each problem named with its index and table.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from dataclasses import dataclass

from reliability.backups.pgclient import ClientConnection, client_binary

_AMCHECK_HEADER = re.compile(r'^(btree index|heap table|toast table) "([^"]+)"(.*):$')


@dataclass(frozen=True)
class AmcheckResult:
    ran: bool
    problems: tuple[str, ...] = ()  # "btree index public.x (table public.t): ERROR: ..."
    note: str = ""  # why it did not run, or its error output
    seconds: float = 0.0


class AmcheckRun:
    """pg_amcheck on the whole database, in the background; :meth:`result` waits for it and reads its report."""

    def __init__(self, dsn: str, jobs: int, heapallindexed: bool):
        self.client = ClientConnection.from_dsn(dsn)
        # The B-tree indexes of the restored schemas (and their TOAST tables), not the system catalogs, and
        # not the heaps themselves: every live tuple is read back by the digests already, so a heap check
        # would be a fourth full scan finding nothing new. --install-missing adds the amcheck extension to
        # the scratch database only; it is dropped with it.
        argv = [
            client_binary("pg_amcheck"),
            "--install-missing",
            "-j",
            str(jobs),
            "--index=*.*",
            "--exclude-schema=pg_catalog",
            "--exclude-schema=information_schema",
        ]
        if heapallindexed:
            argv.append("--heapallindexed")
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [*argv, self.client.conninfo],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.client.env(),
        )
        self.output = ("", "")
        self.seconds = 0.0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def stop(self) -> None:
        self.process.kill()
        self._reader.join()

    def _read(self) -> None:
        self.output = self.process.communicate()
        self.seconds = time.monotonic() - self.started

    def result(self, index_tables: dict[str, str]) -> AmcheckResult:
        self._reader.join()
        out, err = self.output
        err = self.client.scrub(
            "\n".join(line for line in err.splitlines() if not line.startswith("NOTICE:")).strip()
        )
        problems, current = [], None
        for line in out.splitlines():
            match = _AMCHECK_HEADER.match(line)
            if match:
                kind, relation, where = match.groups()
                name = (
                    relation.split(".", 1)[1] if relation.count(".") >= 2 else relation
                )  # without the database
                table = index_tables.get(name)
                current = f"{kind} {name}{f' (table {table})' if table else ''}{where}"
            elif line.strip() and current:
                problems.append(f"{current}: {line.strip()}")
                current = None  # the first detail line is the finding; HINT/DETAIL lines follow it
        returncode = self.process.returncode
        if returncode == 2 or problems:
            return AmcheckResult(
                ran=True,
                problems=tuple(problems) or (out.strip()[:500],),
                note=err[:500],
                seconds=self.seconds,
            )
        if returncode != 0:
            return AmcheckResult(
                ran=False,
                note=f"pg_amcheck could not run (exit {returncode}): {err[-500:]}",
                seconds=self.seconds,
            )
        return AmcheckResult(ran=True, seconds=self.seconds)


def index_tables(dsn: str) -> dict[str, str]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("""SELECT ni.nspname || '.' || i.relname, nt.nspname || '.' || t.relname
                               FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                               JOIN pg_namespace ni ON ni.oid = i.relnamespace
                               JOIN pg_class t ON t.oid = x.indrelid
                               JOIN pg_namespace nt ON nt.oid = t.relnamespace""").fetchall()
    return dict(rows)
