"""A monitor's state over time, rebuilt from its UptimeRobot-style log entries.

Each log entry is a state change: 1 down, 2 up, 98 started (up), 99 paused. The state it sets lasts until
the next entry, whatever ``duration`` the API reported (the last entry's duration grows while the state
lasts, so an ongoing incident is simply the last entry's state lasting until "now").
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import NamedTuple


class State(IntEnum):
    UP = 0
    DOWN = 1
    PAUSED = 2
    UNKNOWN = 3  # before the first entry we know of, when no entry tells what came before


MONITORED_STATES = frozenset({State.UP, State.DOWN})

LOG_DOWN, LOG_UP, LOG_STARTED, LOG_PAUSED = 1, 2, 98, 99
LOG_TYPES = (LOG_DOWN, LOG_UP, LOG_STARTED, LOG_PAUSED)

STATE_OF_LOG_TYPE = {LOG_DOWN: State.DOWN, LOG_UP: State.UP, LOG_STARTED: State.UP, LOG_PAUSED: State.PAUSED}

# What was in force before an entry of this type: UptimeRobot only logs "up" after "down", "down" after
# "up", and "started" after a pause (or at creation). A pause can follow anything, so it tells nothing.
STATE_BEFORE_LOG_TYPE = {
    LOG_DOWN: State.UP,
    LOG_UP: State.DOWN,
    LOG_STARTED: State.PAUSED,
    LOG_PAUSED: State.UNKNOWN,
}

# Monitor status (0 paused, 1 not checked yet, 2 up, 8 seems down, 9 down) -> state, used only when not a
# single log entry falls in the fetched range, so the current status has held throughout. "Seems down" is
# an unconfirmed failure that UptimeRobot has not logged as down, so it is still up.
STATE_OF_STATUS = {0: State.PAUSED, 1: State.UNKNOWN, 2: State.UP, 8: State.UP, 9: State.DOWN}

# Entries at the same second apply in log id order; without ids, up before down before paused so that
# the more conservative state is the one left in force.
TIE_RANK = {LOG_UP: 0, LOG_STARTED: 0, LOG_DOWN: 1, LOG_PAUSED: 2}


class LogEntry(NamedTuple):
    """One log entry. A NamedTuple rather than a dataclass: there are millions of them per run."""

    datetime: int
    type: int
    id: int = 0
    duration: int = 0


class Segment(NamedTuple):
    start: int
    end: int
    state: State


def ordered(entries: Iterable[LogEntry]) -> list[LogEntry]:
    """Entries of the four known types in the order they happened, whatever order the API returned."""
    return sorted(
        (e for e in entries if e.type in STATE_OF_LOG_TYPE),
        key=lambda e: (e.datetime, e.id, TIE_RANK[e.type]),
    )


def initial_state(ordered_entries: list[LogEntry], status: int) -> State:
    """The state before the first entry we have (or throughout, when we have none)."""
    if ordered_entries:
        return STATE_BEFORE_LOG_TYPE[ordered_entries[0].type]
    return STATE_OF_STATUS.get(status, State.UNKNOWN)


def segments(entries: Iterable[LogEntry], status: int, start: int, end: int) -> list[Segment]:
    """The states covering ``[start, end)``, consecutive equal states merged (a down entry that follows
    a down entry, e.g. when the error reason changed, continues the same incident)."""
    if end <= start:
        return []
    events = ordered(entries)
    state = initial_state(events, status)
    result: list[Segment] = []
    cursor = start
    for entry in events:
        if entry.datetime >= end:
            break
        if entry.datetime > cursor:
            _append(result, Segment(cursor, entry.datetime, state))
            cursor = entry.datetime
        state = STATE_OF_LOG_TYPE[entry.type]
    _append(result, Segment(cursor, end, state))
    return result


def _append(result: list[Segment], segment: Segment) -> None:
    if result and result[-1].state == segment.state and result[-1].end == segment.start:
        result[-1] = Segment(result[-1].start, segment.end, segment.state)
    else:
        result.append(segment)
