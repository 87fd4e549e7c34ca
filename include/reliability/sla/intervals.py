"""Half-open time intervals ``(start, end)`` in epoch seconds, and the set operations the uptime rules need.

These are the plain reference implementations; ``vectorised.py`` does the same over many monitors at once.
"""

from __future__ import annotations

from collections.abc import Iterable

Interval = tuple[int, int]


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint intervals covering the same time; touching intervals are joined."""
    merged: list[list[int]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def difference(keep: Iterable[Interval], remove: Iterable[Interval]) -> list[Interval]:
    """The time in ``keep`` and not in ``remove``, as sorted disjoint intervals."""
    cut = union(remove)
    result: list[Interval] = []
    j = 0
    for start, end in union(keep):
        while j < len(cut) and cut[j][1] <= start:
            j += 1
        k = j
        cursor = start
        while k < len(cut) and cut[k][0] < end:
            if cut[k][0] > cursor:
                result.append((cursor, cut[k][0]))
            cursor = max(cursor, cut[k][1])
            k += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def clip(intervals: Iterable[Interval], start: int, end: int) -> list[Interval]:
    """The parts of ``intervals`` inside ``[start, end)``."""
    return [(max(s, start), min(e, end)) for s, e in intervals if min(e, end) > max(s, start)]


def total(intervals: Iterable[Interval]) -> int:
    return sum(e - s for s, e in intervals)
