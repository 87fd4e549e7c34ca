"""File sizes under the three encodings a browser may download, and how to write and read them.

Units are SI for kB/MB (1000) and IEC for KiB/MiB (1024), as in the configuration file; reports use SI,
like the size bots developers know from pull requests
(:func:`reliability.core.formatting.format_bytes`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reliability.core.formatting import format_bytes

COMPRESSIONS = ("raw", "gzip", "brotli")
_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


@dataclass(frozen=True)
class Sizes:
    raw: int
    gzip: int
    brotli: int

    def get(self, compression: str) -> int:
        return getattr(self, compression)

    def __add__(self, other: Sizes) -> Sizes:
        return Sizes(self.raw + other.raw, self.gzip + other.gzip, self.brotli + other.brotli)


ZERO = Sizes(0, 0, 0)


def parse_size(value: object) -> int:
    """Bytes from an integer or a string such as ``"150 kB"`` or ``"1.5 MiB"``; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a size")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"size {value} is negative")
        return value
    if isinstance(value, str):
        match = _SIZE.match(value)
        if match:
            unit = (match.group(2) or "B").lower()
            if unit in _UNITS:
                return round(float(match.group(1)) * _UNITS[unit])
            raise ValueError(
                f"unknown unit {match.group(2)!r} in {value!r} (use B, kB, MB, GB, KiB, MiB or GiB)"
            )
    raise ValueError(f'{value!r} is not a size (write bytes as an integer, or e.g. "150 kB", "1.5 MiB")')


def format_delta(n: int) -> str:
    return "±0 B" if n == 0 else (f"+{format_bytes(n)}" if n > 0 else format_bytes(n))


def format_percent(p: float | None) -> str:
    if p is None:
        return "n/a"
    return f"{p:+.1f}%"
