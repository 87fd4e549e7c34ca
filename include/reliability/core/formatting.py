"""How sizes and durations are written for people (Slack, the reports page, log headlines): one style.

Sizes in SI units (``kB``, ``MB``, ``GB``: what bundlers and size bots print), durations as ``45s``,
``3m 05s``, ``2h 07m``.
"""

from __future__ import annotations


def format_bytes(n: float) -> str:
    size, sign = abs(n), "-" if n < 0 else ""
    for unit, factor in (("TB", 1000**4), ("GB", 1000**3), ("MB", 1000**2), ("kB", 1000)):
        if size >= factor:
            decimals = 2 if size < 10 * factor else 1
            return f"{sign}{size / factor:.{decimals}f} {unit}"
    return f"{sign}{size:.0f} B"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    total = max(0, int(round(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"
