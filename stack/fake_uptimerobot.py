"""A local stand-in for UptimeRobot's API v2 (``getMonitors``, ``getMWindows``), answering as UptimeRobot does.

API v3 (``GET /v3/monitors``, ``/v3/incidents``, ``/v3/maintenance-windows``) is served on the same port
from the same data set by ``stack/fake_uptimerobot_v3.py``, which describes it.

Faithful to the documented v2 behaviour the SLA job relies on:
- ``POST /v2/<method>`` with a form-encoded body carrying ``api_key`` (``getMonitors`` also accepts it in
  the query string); ``format=json``. A wrong or missing key answers HTTP 200 ``stat: fail`` with
  ``error {type: invalid_parameter, parameter_name: api_key, passed_value}``, the value masked.
- ``offset``/``limit`` pagination (limit at most 50) answered with ``pagination {offset, limit, total}``.
- ``getMonitors``: ``monitors`` (dash-separated ids), ``logs=1`` with ``logs_start_date``/``logs_end_date``
  (Unix times, both or neither), ``log_types`` (e.g. ``1-2-98-99``), ``logs_limit``; ``custom_uptime_ranges``
  (``start_end-start_end``, answered as dash-separated percentages with 3 decimals); ``mwindows=1``.
  Logs are newest first: ``{id, type, datetime, duration, reason {code, detail}}`` with types 1 down,
  2 up, 98 started, 99 paused; monitors carry ``create_datetime`` and ``status`` (0 paused, 1 not checked
  yet, 2 up, 8 seems down, 9 down).
- ``getMWindows``: maintenance windows of types 1 once (``start_time`` a Unix time), 2 daily, 3 weekly
  (``value`` weekdays 1 = Monday .. 7), 4 monthly (``value`` days of the month), ``start_time`` ``HH:mm``
  for the recurring ones, ``duration`` in minutes, ``status`` 1 active / 0 paused.
- A requests-per-minute limit: every answer carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
  ``X-RateLimit-Reset`` (Unix time the window ends); beyond it, HTTP 429 with ``Retry-After``.

Its data set is generated, deterministically from a seed and a "now", from the platform's tenants:
one HTTP monitor per site named ``<tenant slug>/<site domain>``, with outages, pauses, maintenance
windows of all four types, monitors created mid-month, an incident still ongoing now, a tenant breaching
its plan last month and this month (once a few hours of it have passed), and monitors whose name matches
no tenant. ``DataSet.facts`` says which monitor plays which part.

Test knobs (in-process attributes, or ``POST /_control`` with JSON): ``rate_limit_per_minute``,
``window_seconds``, and a queue of scripted answers for the next requests (``fail_next``,
``malformed_next``, ``delay_next``, ``throttle_next``). Every API request is recorded (endpoint and
parameters without the API key), readable in-process or at ``GET /_requests``.

Run ``python -m stack.fake_uptimerobot --port N --tenants FILE [--api-key-file F] [--seed S] [--now T]``.
"""

from __future__ import annotations

import argparse
import bisect
import calendar
import json
import math
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

DAY = 86_400
MAX_LIMIT = 50
PLAN_TARGETS = {"free": 0.95, "pro": 0.99, "enterprise": 0.999}  # as in include/config/sla.yaml
DOWN_REASONS = [
    ("333333", "Connection Timeout"),
    ("500", "Internal Server Error"),
    ("502", "Bad Gateway"),
    ("503", "Service Unavailable"),
    ("444444", "No Response"),
]
REASON_OF_TYPE = {2: ("200", "OK"), 98: ("98", "Started"), 99: ("99", "Paused")}
FIRST_MONITOR_ID = 780_000_001


# --- the data set -------------------------------------------------------------------------------------


@dataclass
class FakeLog:
    id: int
    type: int
    datetime: int
    reason: tuple[str, str]


@dataclass
class FakeMonitor:
    id: int
    friendly_name: str
    url: str
    create_datetime: int
    logs: list[FakeLog] = field(default_factory=list)  # oldest first
    mwindow_ids: list[int] = field(default_factory=list)
    interval: int = 300

    def __post_init__(self):
        self._times: list[int] = []

    def seal(self) -> None:
        self.logs.sort(key=lambda entry: (entry.datetime, entry.id))
        self._times = [entry.datetime for entry in self.logs]

    def logs_until(self, now: int) -> list[FakeLog]:
        return self.logs[: bisect.bisect_right(self._times, now)]

    def status(self, now: int) -> int:
        logs = self.logs_until(now)
        if not logs:
            return 1
        return {1: 9, 2: 2, 98: 2, 99: 0}[logs[-1].type]


@dataclass
class FakeMWindow:
    id: int
    type: int
    friendly_name: str
    start_time: int | str
    duration: int  # minutes
    value: str = ""
    status: int = 1

    def as_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": 1,
            "type": self.type,
            "friendly_name": self.friendly_name,
            "start_time": self.start_time,
            "duration": self.duration,
            "value": self.value,
            "status": self.status,
        }


@dataclass
class DataSet:
    monitors: list[FakeMonitor]
    mwindows: list[FakeMWindow]
    now: int
    facts: dict[str, Any] = field(default_factory=dict)  # what the scenarios planted, for tests


@dataclass
class _Episode:
    start: int
    end: int | None  # None: still going on now
    kind: str  # down | pause
    reason_change: bool = False


class _Plan:
    """The episodes of one monitor, kept from overlapping each other."""

    def __init__(self, monitor: FakeMonitor):
        self.monitor = monitor
        self.episodes: list[_Episode] = []

    def add(self, episode: _Episode, now: int, margin: int = 120) -> bool:
        end = episode.end if episode.end is not None else now
        if episode.start <= self.monitor.create_datetime + margin or end > now or end <= episode.start:
            return False
        for other in self.episodes:
            other_end = other.end if other.end is not None else now
            if episode.start < other_end + margin and other.start < end + margin:
                return False
        self.episodes.append(episode)
        return True


def _month_start(epoch: int) -> int:
    moment = datetime.fromtimestamp(epoch, UTC)
    return calendar.timegm((moment.year, moment.month, 1, 0, 0, 0))


def generate_dataset(tenants: list[dict[str, Any]], seed: int = 7, now: int | None = None) -> DataSet:
    """Monitors, logs and maintenance windows for ``tenants`` (``[{"slug", "plan", "sites": [...]}]``)."""
    now = int(time.time()) if now is None else int(now)
    month_start = _month_start(now)
    previous_start = _month_start(month_start - 1)
    history_start = previous_start - 10 * DAY
    elapsed = now - month_start
    rng = random.Random(seed)

    plans: list[_Plan] = []
    by_tenant: dict[str, list[_Plan]] = {}
    next_id = FIRST_MONITOR_ID
    for tenant in tenants:
        for domain in tenant.get("sites") or []:
            monitor = FakeMonitor(
                next_id,
                f"{tenant['slug']}/{domain}",
                f"https://{domain}",
                history_start - rng.randint(0, 60) * DAY - rng.randint(0, DAY),
            )
            next_id += 1
            plans.append(_Plan(monitor))
            by_tenant.setdefault(tenant["slug"], []).append(plans[-1])
    slugs = {t["slug"] for t in tenants}
    internal = next(s for s in ("internal", "internal-ops", "internal-ops-2") if s not in slugs)
    unmapped = []
    for name, url in (
        (f"{internal}/status.example.net", "https://status.example.net"),
        ("Legacy marketing site", "https://old-marketing.example.org"),
    ):
        plans.append(_Plan(FakeMonitor(next_id, name, url, history_start - 20 * DAY)))
        unmapped.append(next_id)
        next_id += 1

    facts: dict[str, Any] = {
        "unmapped_monitor_ids": unmapped,
        "month_start": month_start,
        "previous_month_start": previous_start,
    }
    windows = _windows(previous_start, month_start)
    tenant_plans = [by_tenant[t["slug"]] for t in tenants if by_tenant.get(t["slug"])]
    if tenant_plans:
        _plant_scenarios(tenants, by_tenant, tenant_plans, facts, now, month_start, previous_start, elapsed)
    for plan in plans:
        _random_episodes(plan, random.Random(f"{seed}:{plan.monitor.id}"), now)
    log_id = 1_000_000_001
    for plan in plans:
        log_id = _write_logs(plan, log_id, random.Random(f"{seed}:logs:{plan.monitor.id}"))
    return DataSet([p.monitor for p in plans], windows, now, facts)


def _windows(previous_start: int, month_start: int) -> list[FakeMWindow]:
    return [
        FakeMWindow(501, 1, "Database migration", previous_start + 20 * DAY + 22 * 3600, 180),
        FakeMWindow(502, 2, "Nightly deploys", "03:00", 30),
        FakeMWindow(503, 3, "Sunday patching", "02:00", 60, "7"),
        FakeMWindow(504, 4, "Twice-monthly maintenance", "04:00", 120, "1-15"),
        FakeMWindow(505, 3, "Retired window (paused)", "12:00", 240, "1-2-3-4-5", status=0),
    ]


def _plant_scenarios(tenants, by_tenant, tenant_plans, facts, now, month_start, previous_start, elapsed):
    by_plan = {
        p: [t for t in tenants if by_tenant.get(t["slug"]) and t.get("plan") == p] for p in PLAN_TARGETS
    }
    breaching = (
        by_plan["enterprise"]
        or by_plan["pro"]
        or by_plan["free"]
        or [t for t in tenants if by_tenant.get(t["slug"])]
    )[0]
    target = PLAN_TARGETS.get(breaching.get("plan"), 0.99)
    victim = by_tenant[breaching["slug"]][0]
    previous_len = month_start - previous_start
    # last month: twice the allowance; this month: twice the whole month's allowance, if time allows
    down_before = max(2 * 3600, int(2 * (1 - target) * previous_len))
    victim.add(
        _Episode(
            previous_start + 9 * DAY + 10 * 3600,
            previous_start + 9 * DAY + 10 * 3600 + down_before,
            "down",
            reason_change=True,
        ),
        now,
    )
    month_len = _month_start(month_start + 32 * DAY) - month_start
    down_now = int(min(2 * (1 - target) * month_len, 0.4 * elapsed))
    if down_now > 60:
        begin = month_start + int(0.3 * elapsed)
        victim.add(_Episode(begin, begin + down_now, "down"), now)
    facts.update(breaching_tenant=breaching["slug"], breaching_monitor_id=victim.monitor.id)
    for plan in by_tenant[breaching["slug"]]:
        plan.monitor.mwindow_ids.append(503)

    everyone = [plan for group in tenant_plans for plan in group]

    def pick(index: int) -> _Plan:
        return everyone[index % len(everyone)]

    ongoing = pick(1)
    started = now - max(600, min(2 * 3600, elapsed // 2))
    if ongoing.add(_Episode(started, None, "down"), now):
        facts["ongoing_monitor_id"] = ongoing.monitor.id
        facts["ongoing_since"] = started
    ongoing.monitor.mwindow_ids.append(501)

    paused = pick(2)
    paused.add(_Episode(previous_start + 5 * DAY, previous_start + 6 * DAY, "pause"), now)
    if elapsed > 4 * 3600:
        paused.add(_Episode(month_start + int(0.1 * elapsed), month_start + int(0.2 * elapsed), "pause"), now)
    facts["paused_monitor_id"] = paused.monitor.id

    in_maintenance = pick(3)
    in_maintenance.monitor.mwindow_ids.append(504)
    outage_day = month_start if elapsed > 6 * 3600 else previous_start + 14 * DAY
    if in_maintenance.add(_Episode(outage_day + 4 * 3600 + 600, outage_day + 4 * 3600 + 6600, "down"), now):
        facts["maintenance_outage_monitor_id"] = in_maintenance.monitor.id

    for plan in tenant_plans[2 % len(tenant_plans)]:
        plan.monitor.mwindow_ids.append(502)
    tenant_plans[0][0].monitor.mwindow_ids.append(505)

    created_now = pick(4)
    if elapsed > 2 * 3600 and not created_now.episodes:
        created_now.monitor.create_datetime = month_start + elapsed // 2
        facts["created_this_month_monitor_id"] = created_now.monitor.id
    created_before = pick(5)
    if not created_before.episodes:
        created_before.monitor.create_datetime = previous_start + 14 * DAY + 3600
        facts["created_last_month_monitor_id"] = created_before.monitor.id


def _random_episodes(plan: _Plan, rng: random.Random, now: int) -> None:
    cursor = plan.monitor.create_datetime
    while True:
        cursor += int(rng.expovariate(1 / (6 * DAY)))
        if cursor >= now:
            return
        if rng.random() < 0.15:
            plan.add(_Episode(cursor, cursor + rng.randint(3600, DAY), "pause"), now)
        else:
            length = rng.choice([60, 120, 300, 300, 600, 900, 1800, 3600, 2 * 3600])
            plan.add(_Episode(cursor, cursor + length, "down", reason_change=rng.random() < 0.1), now)


def _write_logs(plan: _Plan, log_id: int, rng: random.Random) -> int:
    monitor = plan.monitor
    entries = [(monitor.create_datetime, 98, REASON_OF_TYPE[98])]
    for episode in plan.episodes:
        if episode.kind == "down":
            entries.append((episode.start, 1, rng.choice(DOWN_REASONS)))
            if episode.reason_change and episode.end is not None:
                entries.append(((episode.start + episode.end) // 2, 1, rng.choice(DOWN_REASONS)))
            if episode.end is not None:
                entries.append((episode.end, 2, REASON_OF_TYPE[2]))
        else:
            entries.append((episode.start, 99, REASON_OF_TYPE[99]))
            entries.append((episode.end, 98, REASON_OF_TYPE[98]))
    for when, kind, reason in sorted(entries):
        monitor.logs.append(FakeLog(log_id, kind, when, reason))
        log_id += 1
    monitor.seal()
    return log_id


# --- the figures UptimeRobot computes itself ----------------------------------------------------------


def provider_uptime(monitor: FakeMonitor, start: int, end: int, now: int) -> float:
    """UptimeRobot's own percentage for ``[start, end)``: paused and not-yet-created time left out,
    maintenance windows not (that is where it differs from the SLA job's figure)."""
    end = min(end, now)
    up = down = 0
    logs = monitor.logs_until(now)
    first = max(bisect.bisect_right(monitor._times, start) - 1, 0)  # the entry in force at `start`
    for i in range(first, len(logs)):
        entry = logs[i]
        if entry.datetime >= end:
            break
        seg_end = logs[i + 1].datetime if i + 1 < len(logs) else end
        lo, hi = max(entry.datetime, start), min(seg_end, end)
        if hi <= lo:
            continue
        if entry.type == 1:
            down += hi - lo
        elif entry.type in (2, 98):
            up += hi - lo
    return 100.0 if up + down == 0 else 100.0 * up / (up + down)


# --- the server ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    endpoint: str
    params: dict[str, str]  # without api_key
    status: int


class ApiFailure(Exception):
    def __init__(self, error: dict[str, Any]):
        super().__init__(error.get("type"))
        self.error = error


class FakeUptimeRobot:
    """The fake API in a background thread: ``start()``, ``url``, ``stop()``; knobs and records for tests."""

    def __init__(
        self,
        dataset: DataSet,
        api_key: str,
        port: int = 0,
        *,
        rate_limit_per_minute: int = 5000,
        window_seconds: float = 60.0,
        clock_now: bool = False,
        v3_token: str | None = None,
    ):
        self.dataset = dataset
        self.v3_token = v3_token or api_key  # API v3's bearer token (the same secret unless given)
        self._incidents: tuple[int, Any] | None = None  # (now, fake_uptimerobot_v3.IncidentIndex)
        self.rate_limit_per_minute = rate_limit_per_minute
        self.window_seconds = window_seconds
        self.retry_after = 1  # seconds, for answers forced by throttle_next
        self._defaults = (rate_limit_per_minute, window_seconds, self.retry_after)
        self.requests: list[RecordedRequest] = []
        self._api_key = api_key
        self._clock_now = (
            clock_now  # True: answer as of the wall clock (a long-running stack), else dataset.now
        )
        self._script: list[tuple[str, float]] = []
        self._window = (0.0, 0)  # (window start, requests in it)
        self._lock = threading.Lock()
        self._by_id = {m.id: m for m in dataset.monitors}
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # lifecycle
    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    @property
    def url_v3(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3"

    def start(self) -> FakeUptimeRobot:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeUptimeRobot:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # knobs
    def fail_next(self, count: int = 1, status: int = 500) -> None:
        with self._lock:
            self._script += [("status", float(status))] * count

    def malformed_next(self, count: int = 1) -> None:
        with self._lock:
            self._script += [("malformed", 0.0)] * count

    def delay_next(self, count: int, seconds: float) -> None:
        with self._lock:
            self._script += [("delay", float(seconds))] * count

    def throttle_next(self, count: int = 1) -> None:
        """429 for the next requests, as when another client of the same account used up the limit."""
        with self._lock:
            self._script += [("throttle", 0.0)] * count

    def answer_normally_next(self, count: int = 1) -> None:
        with self._lock:
            self._script += [("ok", 0.0)] * count

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self._window = (0.0, 0)
            self.rate_limit_per_minute, self.window_seconds, self.retry_after = self._defaults

    @property
    def request_count(self) -> int:
        return len(self.requests)

    def count(self, endpoint: str, status: int | None = None) -> int:
        return sum(
            1 for r in self.requests if r.endpoint == endpoint and (status is None or r.status == status)
        )

    # answering
    def now(self) -> int:
        return int(time.time()) if self._clock_now else self.dataset.now

    def answer(self, path: str, query: str, body: bytes) -> tuple[int, bytes, dict[str, str], float]:
        """(status, body, headers, delay) for one API request."""
        endpoint = path.rsplit("/", 1)[-1]
        params = {
            k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()
        }
        if endpoint == "getMonitors" and "api_key" not in params:
            query_params = parse_qs(query, keep_blank_values=True)
            if "api_key" in query_params:
                params["api_key"] = query_params["api_key"][-1]
        headers, action, value, limited = self._next_action()
        delay = value if action == "delay" else 0.0
        if limited:
            status, payload = (
                429,
                b'{"stat":"fail","error":{"type":"rate_limit","message":"Too Many Requests"}}',
            )
        elif action == "status":
            status, payload = int(value), b"<html><body><h1>Internal Server Error</h1></body></html>"
            headers["Content-Type"] = "text/html"
        elif action == "malformed":
            status, payload = (
                200,
                b'{"stat":"ok","pagination":{"offset":0,"limit":50,"total":3},"monitors":[{"id":7',
            )
        else:
            status, payload = 200, json.dumps(self._api(endpoint, params), separators=(",", ":")).encode()
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
        with self._lock:
            recorded = {k: v for k, v in params.items() if k != "api_key"}
            self.requests.append(RecordedRequest(endpoint, recorded, status))
        return status, payload, headers, delay

    def answer_v3(
        self, path: str, query: str, authorization: str
    ) -> tuple[int, bytes, dict[str, str], float]:
        """(status, body, headers, delay) for one API v3 request (``GET /v3/...``)."""
        from stack import fake_uptimerobot_v3

        endpoint = path.strip("/")
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        headers, action, value, limited = self._next_action()
        delay = value if action == "delay" else 0.0
        if limited:
            status, body = 429, {"message": "Too Many Requests", "statusCode": 429}
        elif action == "status":
            status, body = int(value), None
        elif action == "malformed":
            status, body = 200, None
        else:
            status, body = fake_uptimerobot_v3.answer(self, endpoint, params, authorization)
        if body is not None:
            payload = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        elif action == "malformed":
            payload, headers["Content-Type"] = b'{"data":[{"id":7', "application/json; charset=utf-8"
        else:
            payload, headers["Content-Type"] = b"<html><body><h1>Bad Gateway</h1></body></html>", "text/html"
        with self._lock:  # a key sent in the query string (v2's habit) is not recorded either
            recorded = {k: v for k, v in params.items() if k != "api_key"}
            self.requests.append(RecordedRequest(endpoint, recorded, status))
        return status, payload, headers, delay

    def v3_incidents(self):
        """The data set's incidents as API v3 lists them, as of now (computed once per "now")."""
        from stack import fake_uptimerobot_v3

        now = self.now()
        with self._lock:
            if self._incidents is None or self._incidents[0] != now:
                self._incidents = (now, fake_uptimerobot_v3.incidents_of(self.dataset.monitors, now))
            return self._incidents[1]

    def _next_action(self) -> tuple[dict[str, str], str, float, bool]:
        """Rate-limit headers, the next scripted action, and whether this request is answered 429."""
        with self._lock:
            headers = self._count_against_limit()
            action, value = self._script.pop(0) if self._script else ("ok", 0.0)
        limited = bool(headers.pop("_limited", None)) or action == "throttle"
        if action == "throttle":
            headers["Retry-After"] = str(self.retry_after)
        return headers, action, value, limited

    def _count_against_limit(self) -> dict[str, str]:
        now = time.time()
        start, used = self._window
        if now >= start + self.window_seconds:
            start, used = now - (now % self.window_seconds), 0
        used += 1
        self._window = (start, used)
        reset = start + self.window_seconds
        headers = {
            "X-RateLimit-Limit": str(self.rate_limit_per_minute),
            "X-RateLimit-Remaining": str(max(0, self.rate_limit_per_minute - used)),
            "X-RateLimit-Reset": str(math.ceil(reset)),
        }
        if used > self.rate_limit_per_minute:
            headers["Retry-After"] = str(max(1, math.ceil(reset - now)))
            headers["_limited"] = "1"
        return headers

    def _api(self, endpoint: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            key = params.get("api_key", "")
            if not secrets.compare_digest(key.encode(), self._api_key.encode()):
                raise ApiFailure(
                    {"type": "invalid_parameter", "parameter_name": "api_key", "passed_value": _mask(key)}
                )
            if params.get("format", "json") != "json":
                raise ApiFailure(
                    {
                        "type": "invalid_parameter",
                        "parameter_name": "format",
                        "passed_value": params["format"],
                        "message": "this server answers JSON only",
                    }
                )
            if endpoint == "getMonitors":
                return self._get_monitors(params)
            if endpoint == "getMWindows":
                return self._get_mwindows(params)
            raise ApiFailure({"type": "not_found", "message": f"method {endpoint!r} not found"})
        except ApiFailure as failure:
            return {"stat": "fail", "error": failure.error}

    def _get_monitors(self, params: dict[str, str]) -> dict[str, Any]:
        now = self.now()
        offset, limit = _paging(params, default_limit=MAX_LIMIT)
        monitors = [m for m in self.dataset.monitors if m.create_datetime <= now]
        if params.get("monitors"):
            wanted = set(_ids(params, "monitors"))
            monitors = [m for m in monitors if m.id in wanted]
        with_logs = params.get("logs") == "1"
        log_start = log_end = None
        if "logs_start_date" in params or "logs_end_date" in params:
            log_start, log_end = _int(params, "logs_start_date"), _int(params, "logs_end_date")
            if log_start > log_end:
                raise ApiFailure(
                    {
                        "type": "invalid_parameter",
                        "parameter_name": "logs_start_date",
                        "passed_value": params["logs_start_date"],
                        "message": "logs_start_date must not be after logs_end_date",
                    }
                )
        log_types = set(_ids(params, "log_types")) if params.get("log_types") else None
        logs_limit = _int(params, "logs_limit") if params.get("logs_limit") else None
        ranges = _ranges(params) if params.get("custom_uptime_ranges") else None
        page = []
        for monitor in monitors[offset : offset + limit]:
            item: dict[str, Any] = {
                "id": monitor.id,
                "friendly_name": monitor.friendly_name,
                "url": monitor.url,
                "type": 1,
                "sub_type": "",
                "keyword_type": None,
                "keyword_case_type": None,
                "keyword_value": "",
                "http_username": "",
                "http_password": "",
                "port": "",
                "interval": monitor.interval,
                "timeout": 30,
                "status": monitor.status(now),
                "create_datetime": monitor.create_datetime,
            }
            if with_logs:
                item["logs"] = _logs(monitor, now, log_start, log_end, log_types, logs_limit)
            if ranges is not None:
                item["custom_uptime_ranges"] = "-".join(
                    f"{provider_uptime(monitor, a, b, now):.3f}" for a, b in ranges
                )
            if params.get("mwindows") == "1":
                item["mwindows"] = [w.as_api() for w in self.dataset.mwindows if w.id in monitor.mwindow_ids]
            page.append(item)
        return {
            "stat": "ok",
            "pagination": {"offset": offset, "limit": limit, "total": len(monitors)},
            "monitors": page,
        }

    def _get_mwindows(self, params: dict[str, str]) -> dict[str, Any]:
        offset, limit = _paging(params, default_limit=10)
        windows = self.dataset.mwindows
        if params.get("mwindows"):
            wanted = set(_ids(params, "mwindows"))
            windows = [w for w in windows if w.id in wanted]
        return {
            "stat": "ok",
            "pagination": {"offset": offset, "limit": limit, "total": len(windows)},
            "mwindows": [w.as_api() for w in windows[offset : offset + limit]],
        }

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # the query string may carry an API key
                pass

            def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the delay knob)

            def do_GET(self):
                if self.path == "/_requests":
                    with fake._lock:
                        records = [
                            {"endpoint": r.endpoint, "params": r.params, "status": r.status}
                            for r in fake.requests
                        ]
                    self._send(200, json.dumps(records).encode(), {"Content-Type": "application/json"})
                elif self.path.startswith("/v3/"):
                    parts = urlsplit(self.path)
                    status, payload, headers, delay = fake.answer_v3(
                        parts.path, parts.query, self.headers.get("Authorization") or ""
                    )
                    if delay:
                        time.sleep(delay)
                    self._send(status, payload, headers)
                else:
                    self._send(
                        405,
                        b'{"stat":"fail","error":{"type":"method_not_allowed","message":"use POST"}}',
                        {"Content-Type": "application/json"},
                    )

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                if parts.path == "/_control":
                    fake.control(json.loads(body or b"{}"))
                    self._send(200, b'{"stat":"ok"}', {"Content-Type": "application/json"})
                    return
                if not parts.path.startswith("/v2/"):
                    self._send(
                        404,
                        b'{"stat":"fail","error":{"type":"not_found"}}',
                        {"Content-Type": "application/json"},
                    )
                    return
                status, payload, headers, delay = fake.answer(parts.path, parts.query, body)
                if delay:
                    time.sleep(delay)
                self._send(status, payload, headers)

        return Handler

    def control(self, knobs: dict[str, Any]) -> None:
        """The knobs over HTTP, for a fake running in another process."""
        if knobs.get("reset"):
            self.reset()
        if "rate_limit_per_minute" in knobs:
            self.rate_limit_per_minute = int(knobs["rate_limit_per_minute"])
        if "window_seconds" in knobs:
            self.window_seconds = float(knobs["window_seconds"])
        self.fail_next(int(knobs.get("fail_next", 0)), int(knobs.get("fail_status", 500)))
        self.malformed_next(int(knobs.get("malformed_next", 0)))
        self.throttle_next(int(knobs.get("throttle_next", 0)))
        if knobs.get("delay_next"):
            self.delay_next(int(knobs["delay_next"]), float(knobs.get("delay_seconds", 5)))


def _mask(value: str) -> str:
    """What UptimeRobot echoes of a bad key, shortened so a leaked log line never holds a whole key."""
    return value[:3] + "***" if len(value) > 6 else "***" if value else ""


def _int(params: dict[str, str], name: str) -> int:
    try:
        return int(params[name])
    except (KeyError, ValueError):
        raise ApiFailure(
            {
                "type": "invalid_parameter" if name in params else "missing_parameter",
                "parameter_name": name,
                "passed_value": params.get(name, ""),
            }
        ) from None


def _ids(params: dict[str, str], name: str) -> list[int]:
    try:
        return [int(v) for v in params[name].split("-") if v != ""]
    except ValueError:
        raise ApiFailure(
            {"type": "invalid_parameter", "parameter_name": name, "passed_value": params[name]}
        ) from None


def _paging(params: dict[str, str], default_limit: int) -> tuple[int, int]:
    offset = _int(params, "offset") if params.get("offset") else 0
    limit = _int(params, "limit") if params.get("limit") else default_limit
    if offset < 0:
        raise ApiFailure(
            {"type": "invalid_parameter", "parameter_name": "offset", "passed_value": params["offset"]}
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiFailure(
            {
                "type": "invalid_parameter",
                "parameter_name": "limit",
                "passed_value": params["limit"],
                "message": f"limit must be between 1 and {MAX_LIMIT}",
            }
        )
    return offset, limit


def _ranges(params: dict[str, str]) -> list[tuple[int, int]]:
    raw = params["custom_uptime_ranges"]
    ranges = []
    for part in raw.split("-"):
        bounds = part.split("_")
        if len(bounds) != 2 or not all(b.isdigit() for b in bounds) or int(bounds[0]) >= int(bounds[1]):
            raise ApiFailure(
                {"type": "invalid_parameter", "parameter_name": "custom_uptime_ranges", "passed_value": raw}
            )
        ranges.append((int(bounds[0]), int(bounds[1])))
    return ranges


def _logs(
    monitor: FakeMonitor,
    now: int,
    start: int | None,
    end: int | None,
    types: set[int] | None,
    limit: int | None,
) -> list[dict[str, Any]]:
    logs = monitor.logs_until(now)
    answer = []
    for i in range(len(logs) - 1, -1, -1):  # newest first, as UptimeRobot lists them
        entry = logs[i]
        if (start is not None and entry.datetime < start) or (end is not None and entry.datetime > end):
            continue
        if types is not None and entry.type not in types:
            continue
        until = logs[i + 1].datetime if i + 1 < len(logs) else now
        answer.append(
            {
                "id": entry.id,
                "type": entry.type,
                "datetime": entry.datetime,
                "duration": until - entry.datetime,
                "reason": {"code": entry.reason[0], "detail": entry.reason[1]},
            }
        )
        if limit is not None and len(answer) >= limit:
            break
    return answer


def _parse_now(value: str | None) -> int | None:
    if not value:
        return None
    if value.isdigit():
        return int(value)
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def _api_key(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    key = f"u{secrets.randbelow(10**7):07d}-{secrets.token_hex(12)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(key)
    return key


def main() -> None:
    from stack import fake_uptimerobot_v3

    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--tenants", type=Path, required=True, help='JSON list of {"slug", "plan", "sites": [domain, ...]}'
    )
    parser.add_argument(
        "--api-key-file",
        type=Path,
        default=Path(".stack/uptimerobot.key"),
        help="the API key to accept; created with a random key if missing",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--now", help="generate the data set as of this Unix time or ISO date (default: now)")
    parser.add_argument("--rate-limit", type=int, default=5000, help="requests per minute")
    parser.add_argument(
        "--plan",
        choices=("free", "pro"),
        help="answer with this plan's documented rate limit instead of --rate-limit",
    )
    parser.add_argument("--monitor-limit", type=int, default=50, help="the plan's monitor limit (pro)")
    args = parser.parse_args()
    tenants = json.loads(args.tenants.read_text(encoding="utf-8"))
    dataset = generate_dataset(tenants, seed=args.seed, now=_parse_now(args.now))
    fake = FakeUptimeRobot(
        dataset,
        _api_key(args.api_key_file),
        args.port,
        rate_limit_per_minute=(
            fake_uptimerobot_v3.plan_rate_limit(args.plan, args.monitor_limit)
            if args.plan
            else args.rate_limit
        ),
        clock_now=args.now is None,
    )
    print(fake.url, flush=True)
    fake._server.serve_forever()


if __name__ == "__main__":
    main()
