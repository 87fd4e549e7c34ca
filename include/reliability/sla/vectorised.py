"""The uptime rules of ``uptime.py`` over many monitors at once, with numpy.

Same inputs, same results as the reference (a test holds them to it on random data); this is the path
the report uses, because a month of logs for ten thousand monitors is over a million entries.

Intervals of many owners (monitors or tenants) live in an :class:`IntervalTable`: three parallel arrays
sorted by (owner, start), disjoint and merged within each owner. Set operations work on all owners at
once by "keying" times with the owner (``owner * span + time``) so one running maximum or one sort
handles every owner without mixing them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from reliability.sla.timeline import (
    LOG_TYPES,
    STATE_BEFORE_LOG_TYPE,
    STATE_OF_LOG_TYPE,
    STATE_OF_STATUS,
    TIE_RANK,
    State,
)
from reliability.sla.uptime import MaintenancePolicy, MonitorInput, UptimeFigures

_EARLIEST = np.iinfo(np.int64).min // 4  # before any real time, far from overflow when subtracted


def _lookup(mapping: dict[int, int], default: int) -> np.ndarray:
    table = np.full(max(mapping) + 1, default, dtype=np.int64)
    for key, value in mapping.items():
        table[key] = int(value)
    return table


_STATE_OF_TYPE = _lookup(STATE_OF_LOG_TYPE, State.UNKNOWN)
_STATE_BEFORE_TYPE = _lookup(STATE_BEFORE_LOG_TYPE, State.UNKNOWN)
_STATE_OF_STATUS = _lookup(STATE_OF_STATUS, State.UNKNOWN)
_TIE_RANK = _lookup(TIE_RANK, 0)


@dataclass(frozen=True)
class IntervalTable:
    owners: int
    owner: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @classmethod
    def empty(cls, owners: int) -> IntervalTable:
        nothing = np.empty(0, dtype=np.int64)
        return cls(owners, nothing, nothing, nothing)

    def of(self, owner: int) -> list[tuple[int, int]]:
        lo, hi = np.searchsorted(self.owner, [owner, owner + 1])
        return list(zip(self.start[lo:hi].tolist(), self.end[lo:hi].tolist()))

    def within(self, start: int, end: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per owner: seconds, number of intervals and longest interval inside ``[start, end)``."""
        lengths = np.clip(self.end, start, end) - np.clip(self.start, start, end)
        inside = lengths > 0
        seconds = np.bincount(self.owner, weights=lengths, minlength=self.owners).astype(np.int64)
        count = np.bincount(self.owner[inside], minlength=self.owners)
        longest = np.zeros(self.owners, dtype=np.int64)
        np.maximum.at(longest, self.owner[inside], lengths[inside])
        return seconds, count, longest


def union(
    owners: int, owner: np.ndarray, start: np.ndarray, end: np.ndarray, presorted: bool = False
) -> IntervalTable:
    """Merge each owner's intervals (overlapping or touching) into disjoint sorted ones."""
    keep = end > start
    owner, start, end = owner[keep], start[keep], end[keep]
    if owner.size == 0:
        return IntervalTable.empty(owners)
    if not presorted:
        order = np.argsort(_owner_time_key(owner, start), kind="stable")
        owner, start, end = owner[order], start[order], end[order]
    base = int(start.min())
    span = int(end.max()) - base + 2
    keyed_start = owner * span + (start - base)
    reach = np.maximum.accumulate(owner * span + (end - base))
    new = np.empty(owner.size, dtype=bool)
    new[0] = True
    np.greater(keyed_start[1:], reach[:-1], out=new[1:])
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, owner.size - 1)
    merged_owner = owner[first]
    return IntervalTable(owners, merged_owner, start[first], reach[last] - merged_owner * span + base)


def difference(keep: IntervalTable, remove: IntervalTable) -> IntervalTable:
    """Per owner, the time in ``keep`` and not in ``remove`` (both already merged)."""
    if remove.owner.size == 0 or keep.owner.size == 0:
        return keep
    owner = np.concatenate((keep.owner, keep.owner, remove.owner, remove.owner))
    time = np.concatenate((keep.start, keep.end, remove.start, remove.end))
    n_keep, n_remove = keep.owner.size, remove.owner.size
    in_keep = np.concatenate(
        (np.ones(n_keep, np.int64), -np.ones(n_keep, np.int64), np.zeros(2 * n_remove, np.int64))
    )
    in_remove = np.concatenate(
        (np.zeros(2 * n_keep, np.int64), np.ones(n_remove, np.int64), -np.ones(n_remove, np.int64))
    )
    order = np.argsort(_owner_time_key(owner, time), kind="stable")
    owner, time = owner[order], time[order]
    # every owner's events sum to zero, so running counts never leak from one owner into the next
    kept = np.cumsum(in_keep[order])[:-1] > 0
    removed = np.cumsum(in_remove[order])[:-1] > 0
    piece = kept & ~removed & (owner[1:] == owner[:-1]) & (time[1:] > time[:-1])
    return union(keep.owners, owner[:-1][piece], time[:-1][piece], time[1:][piece], presorted=True)


def regroup(table: IntervalTable, group_of_owner: np.ndarray, groups: int) -> IntervalTable:
    """Union of the intervals of the owners in each group (``-1``: in no group)."""
    group = group_of_owner[table.owner]
    member = group >= 0
    return union(groups, group[member], table.start[member], table.end[member])


def counted_intervals(
    monitors: Sequence[MonitorInput],
    start: int,
    end: int,
    policy: MaintenancePolicy = MaintenancePolicy.EXCLUDE,
) -> tuple[IntervalTable, IntervalTable]:
    """Monitored and down intervals of every monitor within ``[start, end)`` (see ``uptime.counted_intervals``)."""
    n = len(monitors)
    counts = np.fromiter((len(m.entries) for m in monitors), dtype=np.int64, count=n)
    total = int(counts.sum())
    flat = np.fromiter(
        chain.from_iterable(chain.from_iterable(m.entries for m in monitors)), dtype=np.int64, count=total * 4
    ).reshape(total, 4)
    owner = np.repeat(np.arange(n, dtype=np.int64), counts)
    time, kind, ident = flat[:, 0], flat[:, 1], flat[:, 2]
    known = np.isin(kind, LOG_TYPES)
    if not known.all():
        owner, time, kind, ident = owner[known], time[known], kind[known], ident[known]
    order = _chronological(owner, time, ident, kind)
    owner, time, kind = owner[order], time[order], kind[order]

    first_of_owner = np.searchsorted(owner, np.arange(n))
    has_entries = np.bincount(owner, minlength=n) > 0
    statuses = np.fromiter((m.status for m in monitors), dtype=np.int64, count=n)
    initial = np.full(n, State.UNKNOWN, dtype=np.int64)
    known_status = (statuses >= 0) & (statuses < _STATE_OF_STATUS.size)
    initial[known_status] = _STATE_OF_STATUS[statuses[known_status]]
    initial[has_entries] = _STATE_BEFORE_TYPE[kind[first_of_owner[has_entries]]]

    # each monitor starts with its initial state "since forever"; each entry then sets the state until the next
    owner = np.insert(owner, first_of_owner, np.arange(n))
    time = np.insert(time, first_of_owner, _EARLIEST)
    state = np.insert(_STATE_OF_TYPE[kind], first_of_owner, initial)
    created = np.fromiter((m.created_at for m in monitors), dtype=np.int64, count=n)
    window_start = np.maximum(created, start)[owner]
    next_time = np.append(time[1:], end)
    next_time[:-1][owner[1:] != owner[:-1]] = end
    seg_start = np.maximum(time, window_start)
    seg_end = np.minimum(next_time, end)

    is_down = state == State.DOWN
    is_monitored = is_down | (state == State.UP)
    monitored = union(n, owner[is_monitored], seg_start[is_monitored], seg_end[is_monitored], presorted=True)
    down = union(n, owner[is_down], seg_start[is_down], seg_end[is_down], presorted=True)

    maintenance = _maintenance_table(monitors)
    if policy == MaintenancePolicy.EXCLUDE:
        monitored = difference(monitored, maintenance)
    return monitored, difference(down, maintenance)


def _chronological(owner: np.ndarray, time: np.ndarray, ident: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """The order of entries by (owner, time, id, tie rank).

    One stable sort on a single (owner, time) key, which is fast on the nearly sorted runs the API returns,
    then a full lexical sort of only the entries that share an owner and a second.
    """
    if owner.size == 0:
        return np.empty(0, dtype=np.int64)
    key = _owner_time_key(owner, time)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    same = sorted_key[1:] == sorted_key[:-1]
    if same.any():
        tied = np.zeros(order.size, dtype=bool)
        tied[:-1] |= same
        tied[1:] |= same
        group = order[tied]
        order[tied] = group[np.lexsort((_TIE_RANK[kind[group]], ident[group], key[group]))]
    return order


def _owner_time_key(owner: np.ndarray, time: np.ndarray) -> np.ndarray:
    """One int64 that sorts like (owner, time)."""
    base = int(time.min())
    return owner * (int(time.max()) - base + 1) + (time - base)


def _maintenance_table(monitors: Sequence[MonitorInput]) -> IntervalTable:
    counts = np.fromiter((len(m.maintenance) for m in monitors), dtype=np.int64, count=len(monitors))
    total = int(counts.sum())
    if total == 0:
        return IntervalTable.empty(len(monitors))
    flat = np.fromiter(
        chain.from_iterable(chain.from_iterable(m.maintenance for m in monitors)),
        dtype=np.int64,
        count=total * 2,
    ).reshape(total, 2)
    return union(
        len(monitors), np.repeat(np.arange(len(monitors), dtype=np.int64), counts), flat[:, 0], flat[:, 1]
    )


def figures(monitored: IntervalTable, down: IntervalTable, start: int, end: int) -> list[UptimeFigures]:
    """Per owner figures for ``[start, end)``, as ``uptime.figures`` computes them one at a time."""
    seconds, _, _ = monitored.within(start, end)
    downtime, incidents, longest = down.within(start, end)
    return [
        UptimeFigures(int(m), int(d), int(i), int(lg))
        for m, d, i, lg in zip(seconds.tolist(), downtime.tolist(), incidents.tolist(), longest.tolist())
    ]
