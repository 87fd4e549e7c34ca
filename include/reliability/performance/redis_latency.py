"""Redis latency, as the platform sees it: timed round trips from the worker, and Redis's own monitor.

The round trips (``PING``, one after another on one connection) include the network and the server's
queue, which is what a cache lookup costs a request. Redis's latency monitor (``LATENCY LATEST``) names
the server-side events that were slow (slow commands, forks, expiry cycles), and ``LATENCY HISTOGRAM``
gives the server's own time per command: together they tell a slow network from a busy server.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from reliability.core.scrub import scrub_text
from reliability.performance.config import RedisConfig


class RedisUnavailable(RuntimeError):
    """Redis could not be reached or refused the credentials; the message names the connection only."""


@dataclass(frozen=True)
class RedisSettings:
    conn_id: str
    host: str
    port: int = 6379
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    db: int = 0
    ssl: bool = False

    @property
    def where(self) -> str:
        return f"connection {self.conn_id} ({self.host}:{self.port})"


@dataclass(frozen=True)
class LatencyEvent:
    event: str
    latest_seconds: float
    max_seconds: float
    at: int  # unix time of the latest spike


@dataclass(frozen=True)
class RedisLatency:
    where: str
    commands: int
    p50_seconds: float
    p99_seconds: float
    max_seconds: float
    target_seconds: float
    monitor: str  # what happened to the latency monitor, in words
    monitor_threshold_seconds: float | None  # the server's setting after the run; None: unknown
    events: tuple[LatencyEvent, ...] = ()
    server_p99_seconds: dict[str, float] = field(default_factory=dict)  # per command, from the histogram

    @property
    def breach(self) -> bool:
        return self.p99_seconds > self.target_seconds


def quantile(sorted_samples: Sequence[float], q: float) -> float:
    """Nearest-rank quantile of sorted samples: a value that was observed, never an interpolation."""
    if not sorted_samples:
        raise ValueError("no samples")
    rank = max(1, math.ceil(q * len(sorted_samples)))
    return sorted_samples[min(rank, len(sorted_samples)) - 1]


def histogram_quantile_usec(buckets: dict[int, int], calls: int, q: float) -> float | None:
    """The upper bound (seconds) of the first cumulative bucket holding ``q`` of the calls."""
    if calls <= 0:
        return None
    for bound in sorted(buckets):
        if buckets[bound] >= q * calls:
            return bound / 1e6
    return max(buckets) / 1e6 if buckets else None


def _client(settings: RedisSettings, timeout: float):
    import redis

    return redis.Redis(
        host=settings.host,
        port=settings.port,
        username=settings.username or None,
        password=settings.password or None,
        db=settings.db,
        ssl=settings.ssl,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry_on_timeout=False,
    )


def _failure(settings: RedisSettings, exc: Exception) -> RedisUnavailable:
    import redis

    if (
        isinstance(exc, redis.exceptions.AuthenticationError)
        or "NOAUTH" in str(exc)
        or "WRONGPASS" in str(exc)
    ):
        reason = "authentication failed (check the login and password of the connection)"
    elif isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)):
        reason = f"cannot connect: {scrub_text(str(exc), [settings.password])}"
    else:
        reason = f"{type(exc).__name__}: {scrub_text(str(exc), [settings.password])}"
    return RedisUnavailable(f"Redis at {settings.where}: {reason}")


def measure(settings: RedisSettings, config: RedisConfig) -> RedisLatency:
    """Time ``config.commands`` round trips and read the server's latency monitor."""
    import redis

    client = _client(settings, config.timeout_seconds)
    try:
        try:
            client.ping()
            samples = []
            for _ in range(config.commands):
                started = time.perf_counter_ns()
                client.execute_command("PING")
                samples.append((time.perf_counter_ns() - started) / 1e9)
        except redis.exceptions.RedisError as exc:
            raise _failure(settings, exc) from None
        monitor, threshold = _ensure_monitor(client, config.latency_monitor_threshold_seconds)
        events = _latest_events(client)
        server = _server_p99(client)
    finally:
        client.close()
    samples.sort()
    return RedisLatency(
        where=settings.where,
        commands=len(samples),
        p50_seconds=quantile(samples, 0.5),
        p99_seconds=quantile(samples, 0.99),
        max_seconds=samples[-1],
        target_seconds=config.p99_target_seconds,
        monitor=monitor,
        monitor_threshold_seconds=threshold,
        events=events,
        server_p99_seconds=server,
    )


def _ensure_monitor(client, wanted_seconds: float) -> tuple[str, float | None]:
    """Turn the latency monitor on at ``wanted_seconds`` if it is off and the server lets us; say what happened."""
    import redis

    wanted_ms = int(round(wanted_seconds * 1000))
    try:
        current_ms = int(client.config_get("latency-monitor-threshold").get("latency-monitor-threshold", 0))
    except redis.exceptions.RedisError as exc:
        return f"latency monitor setting not readable ({_short(exc)}); events shown if any", None
    if current_ms > 0:
        return f"latency monitor on at {current_ms} ms", current_ms / 1000
    if wanted_ms <= 0:
        return "latency monitor off (left alone: threshold 0 in the config)", 0.0
    try:
        client.config_set("latency-monitor-threshold", wanted_ms)
    except redis.exceptions.RedisError as exc:
        return f"latency monitor off and could not be enabled ({_short(exc)})", 0.0
    return f"latency monitor enabled at {wanted_ms} ms by this run", wanted_ms / 1000


def _latest_events(client) -> tuple[LatencyEvent, ...]:
    import redis

    try:
        rows = client.execute_command("LATENCY", "LATEST")
    except redis.exceptions.RedisError:
        return ()
    events = []
    for row in rows or []:
        name, at, latest_ms, max_ms = row[:4]
        events.append(
            LatencyEvent(
                event=name.decode() if isinstance(name, bytes) else str(name),
                latest_seconds=int(latest_ms) / 1000,
                max_seconds=int(max_ms) / 1000,
                at=int(at),
            )
        )
    return tuple(sorted(events, key=lambda e: -e.max_seconds))


def _server_p99(client) -> dict[str, float]:
    """p99 upper bound of the server's own time per command (Redis 7's LATENCY HISTOGRAM), busiest first."""
    import redis

    try:
        raw = client.execute_command("LATENCY", "HISTOGRAM")
    except redis.exceptions.RedisError:
        return {}
    found = []
    pairs = raw.items() if isinstance(raw, dict) else zip(raw[::2], raw[1::2], strict=False)
    for command, detail in pairs:
        info = detail if isinstance(detail, dict) else dict(zip(detail[::2], detail[1::2], strict=False))
        info = {k.decode() if isinstance(k, bytes) else k: v for k, v in info.items()}
        hist = info.get("histogram_usec") or []
        buckets = dict(hist) if isinstance(hist, dict) else dict(zip(hist[::2], hist[1::2], strict=False))
        calls = int(info.get("calls", 0))
        p99 = histogram_quantile_usec({int(k): int(v) for k, v in buckets.items()}, calls, 0.99)
        if p99 is not None:
            name = command.decode() if isinstance(command, bytes) else str(command)
            found.append((calls, name, p99))
    return {name: p99 for _, name, p99 in sorted(found, reverse=True)[:10]}


def _short(exc: Exception) -> str:
    return str(exc).split("\n", 1)[0][:200]
