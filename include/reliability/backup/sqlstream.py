"""Reading what ``pg_restore -C -f -`` prints: the archive's SQL script, parsed as it streams.

The script carries everything the verdict needs, in one pass and without a database: the archive's
header (server and pg_dump versions), one ``-- Name: ...; Type: ...`` comment per table-of-contents
entry (the TOC summary and the list of tables), the ``CREATE DATABASE`` entry (which database was
dumped), and each table's rows as a ``COPY ... FROM stdin;`` block ended by ``\\.``. The rows are
counted and digested with :mod:`reliability.backups.tabledigest`, the same digest the restore test takes of
the restored tables.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from reliability.backups.tabledigest import TableDigest

_TOC_COMMENT = re.compile(rb"^-- (Data for )?Name: (.*); Type: (.*); Schema: (.*); Owner: (.*)$")
_DUMPED_FROM = b"-- Dumped from database version "
_DUMPED_BY = b"-- Dumped by pg_dump version "
_COMPLETE = b"-- PostgreSQL database dump complete"
_COPY_END = b"\\.\n"


@dataclass
class TableData:
    """The rows of one table as read from the archive's data block."""

    qualified_name: str  # as pg_dump wrote it in COPY, e.g. public.pageviews or public."Odd Name"
    schema: str
    name: str
    columns: tuple[str, ...]
    digest: TableDigest = field(default_factory=TableDigest)
    complete: bool = False  # its ``\.`` terminator was seen


@dataclass
class ArchiveReport:
    """What one read of an archive found; pg_restore's exit status and messages are added at the end."""

    dbname: str | None = None
    server_version: str | None = None
    pg_dump_version: str | None = None
    toc: Counter = field(default_factory=Counter)  # entry type -> count
    toc_tables: set = field(default_factory=set)  # {(schema, name)} of TABLE entries
    data_entries: list = field(default_factory=list)  # [(schema, name)] of TABLE DATA entries, in order
    tables: dict = field(default_factory=dict)  # qualified name -> TableData
    complete: bool = False  # the script's closing comment was printed
    returncode: int | None = None
    errors: list = field(default_factory=list)  # pg_restore's error lines
    warnings: list = field(default_factory=list)
    reading_data_of: str | None = None  # the table whose data block was being read when the output stopped

    @property
    def rows(self) -> int:
        return sum(t.digest.rows for t in self.tables.values())

    def problems(self) -> list[str]:
        """Why this archive cannot be trusted as a readable, complete dump (empty if it can)."""
        found = []
        if self.returncode not in (0, None) or self.errors:
            error = self.errors[0] if self.errors else f"exited with status {self.returncode}"
            where = f" while reading the data of table {self.reading_data_of}" if self.reading_data_of else ""
            found.append(f"pg_restore failed{where}: {error}")
        elif self.reading_data_of:
            found.append(f"the data of table {self.reading_data_of} ends before its end marker")
        elif not self.complete:
            found.append("pg_restore's output stopped before the end of the dump")
        unread = len(self.data_entries) - sum(1 for t in self.tables.values() if t.complete)
        if not found and unread > 0:
            found.append(f"{unread} of {len(self.data_entries)} table data entries were not read to the end")
        if not found and not self.toc:
            found.append("the archive holds no table of contents entries")
        return found


def _identifiers(text: str) -> list[str]:
    """Split pg_dump's identifier lists (``a."B c", d`` or ``s."t"``) into raw names."""
    names, current, quoted, i = [], [], False, 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == '"':
                if i + 1 < len(text) and text[i + 1] == '"':
                    current.append('"')
                    i += 1
                else:
                    quoted = False
            else:
                current.append(ch)
        elif ch == '"':
            quoted = True
        elif ch in ".,":
            names.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    names.append("".join(current).strip())
    return names


def _split_copy(statement: str) -> tuple[str, list[str], tuple[str, ...]]:
    """``COPY s.t (a, b) FROM stdin;`` -> ("s.t", ["s", "t"], ("a", "b"))."""
    body = statement[len("COPY ") : -len(" FROM stdin;")]
    # The column list is the last parenthesised group; a quoted table name may itself hold parentheses.
    columns: tuple[str, ...] = ()
    if body.endswith(")"):
        depth_quote = False
        for i, ch in enumerate(body):
            if ch == '"':
                depth_quote = not depth_quote
            elif ch == "(" and not depth_quote:
                columns = tuple(_identifiers(body[i + 1 : -1]))
                body = body[:i]
                break
    qualified = body.strip()
    return qualified, _identifiers(qualified), columns


class ArchiveParser:
    """Feed it pg_restore's stdout in chunks of any size; read :attr:`report` at the end."""

    def __init__(self):
        self.report = ArchiveReport()
        self._tail = b""
        self._table: TableData | None = None
        # Set by a TABLE DATA entry's header, cleared by any other entry: a line that merely looks like a
        # COPY (inside a function body, say) must not start a data block.
        self._last_data_entry: tuple[str, str] | None = None

    def feed(self, chunk: bytes) -> None:
        data = self._tail + chunk if self._tail else chunk
        pos, size = 0, len(data)
        while pos < size:
            if self._table is not None:
                pos = self._copy_rows(data, pos)
                if self._table is not None:
                    break  # need more data to finish the block
            else:
                nl = data.find(b"\n", pos)
                if nl < 0:
                    break
                self._line(data[pos:nl])
                pos = nl + 1
        self._tail = data[pos:]

    def _copy_rows(self, data: bytes, pos: int) -> int:
        """Digest complete row lines from ``pos``; return where unconsumed data starts."""
        if data.startswith(_COPY_END, pos):
            end = pos
        else:
            end = data.find(b"\n" + _COPY_END, pos)
            end = end + 1 if end >= 0 else -1
        if end >= 0:
            if end > pos:
                self._table.digest.add_lines(data[pos : end - 1].split(b"\n"))
            self._table.complete = True
            self._table = None
            self.report.reading_data_of = None
            return end + len(_COPY_END)
        last_nl = data.rfind(b"\n", pos)
        if last_nl < 0:
            return pos
        # A line that is only "\." ends the block; a partial one is kept until its newline arrives.
        self._table.digest.add_lines(data[pos:last_nl].split(b"\n"))
        return last_nl + 1

    def _line(self, raw: bytes) -> None:
        report = self.report
        if raw.startswith(b"--"):
            match = _TOC_COMMENT.match(raw)
            if match:
                is_data, name, kind, schema = (
                    match.group(1),
                    *(g.decode("utf-8", "replace") for g in match.group(2, 3, 4)),
                )
                report.toc[kind] += 1
                self._last_data_entry = None
                if is_data and kind == "TABLE DATA":
                    self._last_data_entry = (schema, name)
                    report.data_entries.append((schema, name))
                elif kind == "TABLE":
                    report.toc_tables.add((schema, name))
                elif kind == "DATABASE":
                    report.dbname = name
            elif raw.startswith(_DUMPED_FROM):
                report.server_version = raw[len(_DUMPED_FROM) :].decode("utf-8", "replace").strip()
            elif raw.startswith(_DUMPED_BY):
                report.pg_dump_version = raw[len(_DUMPED_BY) :].decode("utf-8", "replace").strip()
            elif raw.startswith(_COMPLETE):
                report.complete = True
        elif self._last_data_entry and raw.startswith(b"COPY ") and raw.endswith(b" FROM stdin;"):
            qualified, parts, columns = _split_copy(raw.decode("utf-8", "replace"))
            schema, name = (parts[0], parts[1]) if len(parts) == 2 else self._last_data_entry
            self._last_data_entry = None
            table = TableData(qualified_name=qualified, schema=schema, name=name, columns=columns)
            report.tables[qualified] = table
            report.reading_data_of = qualified
            self._table = table

    def close(self) -> ArchiveReport:
        """End of output: a last line without newline is still parsed; an open COPY block stays open."""
        if self._tail and self._table is None:
            self._line(self._tail.rstrip(b"\r"))
        self._tail = b""
        return self.report
