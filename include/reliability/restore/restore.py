"""``pg_restore -j N --exit-on-error`` into the scratch database, reporting which item it died on.

pg_restore runs with ``--verbose`` so its progress can be followed line by line: which table-of-contents
items are in flight, which table's data has finished loading (``on_table_loaded``, so validation can
start on a table while the indexes of others are still being built), and, when it fails, the item that
failed ("from TOC entry 3440; ... TABLE DATA pageviews") or, failing that, the items in flight. The
password travels in the child's environment only and is scrubbed from every message.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from reliability.backups.pgclient import ClientConnection, client_binary
from reliability.restore.errors import RestoreFailed

_TOC_LINE = re.compile(r"^(\d+); \d+ \d+ (.+)$")
_LAUNCH = re.compile(r"^pg_restore: launching item (\d+) (.+)$")
_FINISH = re.compile(r"^pg_restore: finished item (\d+) (.+)$")
# A serial restore names each step by what it creates or loads: `creating INDEX "public.x"`,
# `processing data for table "public.t"`. Parallel workers print the latter too, but there the leader's
# "finished item" lines are the authority.
_SERIAL = re.compile(r'^pg_restore: (?:creating (.+?)|processing data for table) "(.+)"$')
_DATA_LINE = 'pg_restore: processing data for table "'
_PARALLEL_LOOP = "pg_restore: entering main parallel loop"
_FROM_TOC = re.compile(r"^pg_restore: from TOC entry (\d+); \d+ \d+ (.+)$")
_ERROR = re.compile(r"^pg_restore: error: (.+)$")
# Object types whose TOC description is "<TYPE> <schema> <name> <owner>" in ``pg_restore -l``.
_TYPES = (
    "TABLE DATA",
    "TABLE",
    "INDEX",
    "CONSTRAINT",
    "FK CONSTRAINT",
    "SEQUENCE SET",
    "SEQUENCE OWNED BY",
    "SEQUENCE",
    "VIEW",
    "MATERIALIZED VIEW DATA",
    "MATERIALIZED VIEW",
    "TRIGGER",
    "DEFAULT",
    "FUNCTION",
    "TYPE",
    "DOMAIN",
    "RULE",
    "POLICY",
    "STATISTICS",
)


@dataclass(frozen=True)
class TocItem:
    id: int
    kind: str  # TABLE DATA, INDEX, ...
    schema: str
    name: str

    def describe(self) -> str:
        return f"{self.kind} {self.schema}.{self.name}" if self.schema else f"{self.kind} {self.name}"


def parse_toc(listing: str) -> dict[int, TocItem]:
    """``pg_restore -l`` output -> items by id (a name with spaces comes through whole)."""
    items = {}
    for line in listing.splitlines():
        match = _TOC_LINE.match(line)
        if not match:
            continue
        item_id, rest = int(match.group(1)), match.group(2)
        kind = next((t for t in _TYPES if rest.startswith(t + " ")), None)
        if kind is None:
            kind, _, name = rest.partition(" ")
            items[item_id] = TocItem(item_id, kind, "", name)
            continue
        words = rest[len(kind) + 1 :].split(" ")
        if len(words) >= 3:  # schema, name (may hold spaces), owner
            schema, name = words[0], " ".join(words[1:-1])
        else:
            schema, name = "", " ".join(words)
        items[item_id] = TocItem(item_id, kind, "" if schema == "-" else schema, name)
    return items


def read_toc(dump_path: str) -> dict[int, TocItem]:
    result = subprocess.run([client_binary("pg_restore"), "-l", dump_path], capture_output=True, text=True)
    if result.returncode != 0:
        raise RestoreFailed(
            "pg_restore cannot read the table of contents of the downloaded dump: "
            f"{result.stderr.strip()[-500:]}",
            check="toc",
        )
    return parse_toc(result.stdout)


@dataclass(frozen=True)
class RestoreResult:
    seconds: float
    items: int  # TOC entries in the dump
    tables_loaded: tuple[str, ...]  # schema.table of every table whose data finished loading


class _Progress:
    """Follows pg_restore's verbose lines: what is in flight, what finished, what it died on."""

    def __init__(
        self, toc: dict[int, TocItem], serial_mode: bool, on_table_loaded: Callable[[str, str], None] | None
    ):
        self.toc = toc
        self.serial_mode = serial_mode
        self.on_table_loaded = on_table_loaded
        self.in_flight: dict[str, str] = {}  # item key (TOC id, or name when serial) -> description
        self.serial: str | None = None
        self.loaded: list[str] = []
        self.errors: list[str] = []
        self.failed_item: TocItem | None = None
        self.in_flight_at_error: list[str] = []

    def finish(self, key: str) -> None:
        description = self.in_flight.pop(key, "")
        if description.startswith("TABLE DATA "):
            qualified = description[len("TABLE DATA ") :]
            self.loaded.append(qualified)
            if self.on_table_loaded is not None:
                self.on_table_loaded(*qualified.split(".", 1))

    def _serial_step(self, key: str | None, description: str = "") -> None:
        if self.serial is not None:
            self.finish(self.serial)
        self.serial = key
        if key is not None:
            self.in_flight[key] = description

    def feed(self, line: str, scrub: Callable[[str], str]) -> None:
        if match := _LAUNCH.match(line):
            item = self.toc.get(int(match.group(1)))
            self.in_flight[match.group(1)] = item.describe() if item else match.group(2)
        elif match := _FINISH.match(line):
            self.finish(match.group(1))
        elif (match := _SERIAL.match(line)) and (self.serial_mode or not line.startswith(_DATA_LINE)):
            kind = match.group(1) or "TABLE DATA"
            self._serial_step(f"{kind}:{match.group(2)}", f"{kind} {match.group(2)}")
        elif line == _PARALLEL_LOOP:
            self._serial_step(None)
        elif match := _FROM_TOC.match(line):
            self.failed_item = self.failed_item or self.toc.get(int(match.group(1)))
        elif match := _ERROR.match(line):
            if not self.errors:
                self.in_flight_at_error = list(self.in_flight.values())
            self.errors.append(scrub(match.group(1)))

    def end(self) -> None:
        self._serial_step(None)

    def failure(self, returncode: int) -> RestoreFailed:
        error = self.errors[0] if self.errors else f"exit status {returncode}"
        if len(self.errors) > 1 and self.errors[-1] != error:
            error += f" (then: {self.errors[-1]})"
        table = None
        if self.failed_item is not None:
            where = f"while restoring {self.failed_item.describe()}"
            if self.failed_item.kind in ("TABLE DATA", "TABLE"):
                table = f"{self.failed_item.schema}.{self.failed_item.name}"
        else:
            # A worker that died never reports its item finished: the suspects are the items in flight at
            # the first error that were still unfinished at the end.
            unfinished = set(self.in_flight.values())
            suspects = [d for d in self.in_flight_at_error if d in unfinished] or self.in_flight_at_error
            data = [d for d in suspects if d.startswith("TABLE DATA ")]
            where = (
                f"while loading {', '.join(data)}"
                if data
                else f"with {', '.join(suspects)} in flight"
                if suspects
                else "before restoring any item"
            )
            if len(data) == 1:
                table = data[0][len("TABLE DATA ") :]
        return RestoreFailed(f"pg_restore failed {where}: {error}", check="pg_restore", table=table)


def run_pg_restore(
    dump_path: str, target_dsn: str, jobs: int, on_table_loaded: Callable[[str, str], None] | None = None
) -> RestoreResult:
    """Restore ``dump_path`` into the (empty) database of ``target_dsn``; :class:`RestoreFailed` names the item."""
    toc = read_toc(dump_path)
    client = ClientConnection.from_dsn(target_dsn)
    # Owners and grants name roles of the production server that the scratch server need not have.
    argv = [
        client_binary("pg_restore"),
        "--verbose",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        "-j",
        str(jobs),
        "-d",
        client.conninfo,
        dump_path,
    ]
    progress = _Progress(toc, jobs == 1, on_table_loaded)
    started = time.monotonic()
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=client.env(), bufsize=1
    )
    try:
        for raw in process.stderr:
            progress.feed(raw.rstrip("\n"), client.scrub)
        returncode = process.wait()
    except BaseException:
        process.kill()
        process.wait()
        raise
    seconds = time.monotonic() - started
    if returncode != 0 or progress.errors:
        failure = progress.failure(returncode)
        if failure.table is None and progress.failed_item is None:
            failure = _read_serially(dump_path, toc) or failure
        raise failure
    progress.end()
    return RestoreResult(seconds=seconds, items=len(toc), tables_loaded=tuple(progress.loaded))


def _read_serially(dump_path: str, toc: dict[int, TocItem]) -> RestoreFailed | None:
    """Re-read the dump alone, one item at a time, to name the item a parallel restore could not pin down.

    Parallel workers interleave, so a read error ("could not read from input file") leaves several
    tables in flight; reading the archive serially into /dev/null stops at exactly the broken one.
    """
    progress = _Progress(toc, True, None)
    process = subprocess.Popen(
        [client_binary("pg_restore"), "--verbose", "-f", "/dev/null", dump_path],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    for raw in process.stderr:
        progress.feed(raw.rstrip("\n"), str)
    returncode = process.wait()
    if returncode == 0 and not progress.errors:
        return None  # the dump reads fine: the failure was on the server side, and stays as reported
    failure = progress.failure(returncode)
    return failure if failure.table else None
