"""UptimeRobot API v3 client: monitors, incidents and maintenance windows, with v2 for what v3 lacks.

What it uses of v3, from UptimeRobot's published documentation:
- https://uptimerobot.com/api/v3/ : JSON only; rate limits per plan (FREE 10 requests/min, PRO the
  monitor limit x 2 per minute, at most 5,000), answered with HTTP 429 and ``X-RateLimit-Limit``,
  ``X-RateLimit-Remaining``, ``X-RateLimit-Reset`` (epoch seconds) and ``Retry-After``.
- https://uptimerobot.com/blog/introducing-the-uptimerobot-v3-api : REST paths (``GET /monitors``,
  ``/maintenance-windows``), bearer tokens in the ``Authorization`` header, cursor pagination; v2 stays
  available but gets no updates.
- The v3 OpenAPI document (``servers: https://api.uptimerobot.com/v3``, as UptimeRobot publishes it with
  its CLI, github.com/uptimerobot/uptimerobot-cli ``openapi/openapi.yaml``): ``GET /monitors`` (``limit``
  1..200, ``cursor``; ``{data, nextLink}``; a monitor's ``id``, ``friendlyName``, ``url``, ``status``
  PAUSED / STARTED / UP / LOOKS_DOWN / DOWN, ``createDateTime``, ``maintenanceWindows``);
  ``GET /incidents`` (``cursor``, ``monitor_id``, ``started_after``, ``started_before`` in ISO 8601;
  newest first; ``id``, ``type``, ``monitor.id``, ``startedAt``, ``resolvedAt``, ``cause`` a number or
  null, ``reason`` a string: kept as the reason code and detail of the incident's "down" entry); ``GET
  /maintenance-windows`` (``interval`` once/daily/weekly/monthly, ``date``, ``time``, ``duration`` in
  minutes, ``days``, ``status`` active/paused); ``GET /monitors/{id}/stats/uptime`` (one monitor, at
  most 90 days). The ``type`` of an incident is not enumerated there; the uptime-stats logs use
  DOWNTIME and SLOW_RESPONSE, so every incident but a SLOW_RESPONSE one counts as downtime.
- Error bodies are not described; they are read as ``{"message": str | [str], "error", "statusCode"}``.

What v3 lacks for ``RULES.md`` (see its "API v3" section), read through API v2 with a v2 key
(``v2_api_key`` in the connection's extra), one getMonitors call per 50 monitors each:
- pauses and restarts (rule 9: paused time is left out): v3 has incidents, no pause history; and
  UptimeRobot's own uptime for the period (rule 20) and for each of its days (the tenant pages'
  reconciliation), which v3 gives one monitor per call, 90 days at most;
- the state when the look-back starts (rule 6): an incident that began before it is not among the
  incidents that started since, so each monitor's last v2 log entry before it is read; where that is
  "down", one ``GET /incidents?monitor_id=`` call finds when that incident was resolved.
Downtime itself comes from v3's incidents: an incident is "down" from ``startedAt`` to ``resolvedAt``.

Never a partial snapshot: any failure raises, and a monitor list that differs between v3 and v2 fails the
fetch. The token and the v2 key never appear in logs, exceptions or what ``fetch`` returns.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from reliability.sla.maintenance import MaintenanceWindow, MaintenanceWindowInvalid
from reliability.sla.source import FetchRequest, Snapshot, SourceMonitor
from reliability.sla.timeline import LOG_DOWN, LOG_PAUSED, LOG_STARTED, LOG_UP, LogEntry
from reliability.sla.uptimerobot import UptimeRobotClient
from reliability.sla.uptimerobot_http import (
    Transport,
    UptimeRobotApiError,
    UptimeRobotBadResponse,
    UptimeRobotError,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.uptimerobot.com/v3"
MONITORS_PAGE = 200  # the most GET /monitors allows
STATUS_CODES = {"PAUSED": 0, "STARTED": 1, "UP": 2, "LOOKS_DOWN": 8, "DOWN": 9}  # as v2's status codes
SLOW_RESPONSE = "SLOW_RESPONSE"
# Entries made from incidents carry no log id. Within one second a resolution sorts before, and an
# incident's start after, any logged entry: a pause at the second an incident ends stays a pause, and an
# outage found by the first check after a restart stays an outage.
RESOLVED_ID, STARTED_ID = 0, 2**62


class UptimeRobotV3Client:
    """An :class:`~reliability.sla.source.UptimeSource` reading API v3, and v2 for pauses (see above)."""

    name = "uptimerobot"

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        v2_api_key: str,
        v2_base_url: str | None = None,
        **transport: Any,
    ):
        """``transport``: timeouts, attempts, backoff, rate-limit wait, sleep/clock/session (tests)."""
        if not token:
            raise UptimeRobotError(
                "no UptimeRobot API v3 token: set it as the password of the `uptimerobot` connection"
            )
        if not v2_api_key:
            raise UptimeRobotError(
                "API v3 has no pause history and no monitor logs, which the SLA rules need (RULES.md, "
                "'API v3'): set `v2_api_key` (a read-only v2 key) in the extra of the `uptimerobot` "
                "connection, or use API v2 (docs/operating.md)"
            )
        base = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.base_url = base if base.endswith("/v3") else base + "/v3"
        self._http = Transport(self.base_url, token, **transport)
        self._v2 = UptimeRobotClient(
            v2_base_url or self.base_url.removesuffix("/v3"), v2_api_key, **transport
        )

    @property
    def requests(self) -> int:
        return self._http.requests + self._v2.requests

    def __repr__(self) -> str:
        return f"UptimeRobotV3Client(base_url={self.base_url!r}, v2={self._v2.base_url!r})"

    def close(self) -> None:
        self._http.close()
        self._v2.close()

    def fetch(self, request: FetchRequest) -> Snapshot:
        before = self.requests
        logs_start = request.logs_start
        logs_end = max(request.logs_end, int(self._http.clock()))
        listed = self._pages("monitors", {"limit": MONITORS_PAGE})
        try:
            monitors = {int(item["id"]): item for item in listed}
        except (TypeError, ValueError):
            raise self._http.error(UptimeRobotBadResponse, "monitors: a monitor id is not a number") from None
        windows = self.get_maintenance_windows()
        entries: dict[int, list[LogEntry]] = defaultdict(list)
        reasons: dict[int, dict[int, tuple[str | None, str | None]]] = defaultdict(dict)
        incidents = self._pages(
            "incidents", {"started_after": _iso(logs_start - 1), "started_before": _iso(logs_end + 1)}
        )
        for incident in incidents:
            monitor_id, started, resolved = self._incident(incident)
            if monitor_id in monitors and logs_start <= started <= logs_end:
                entries[monitor_id] += _entries_of(started, resolved)
                reasons[monitor_id][started] = _reason_of(incident)
        # v2: pauses and restarts, UptimeRobot's uptime figure, and the state when the look-back starts
        legacy = {m.id: m for m in self._v2.list_monitors(request, log_types=(LOG_STARTED, LOG_PAUSED))}
        if set(legacy) != set(monitors):
            raise self._http.error(
                UptimeRobotBadResponse,
                f"API v3 lists {len(monitors)} monitors and v2 {len(legacy)}, "
                f"{len(set(monitors) ^ set(legacy))} of them in only one (a monitor added or deleted "
                "during the fetch, or keys of two accounts); nothing was kept, run again",
            )
        earlier = self._v2.monitors_before(list(legacy.values()), logs_start)
        for monitor_id, prior in earlier.items():
            last = prior.entries
            if last and last[-1].type == LOG_DOWN:
                resolved = self._resolution_of_incident_open_at(monitor_id, logs_start)
                if resolved is not None and resolved >= logs_start:
                    entries[monitor_id].append(LogEntry(resolved, LOG_UP, RESOLVED_ID))
        result = []
        for monitor_id, item in sorted(monitors.items()):
            logged, prior = legacy[monitor_id], earlier.get(monitor_id)
            monitor = self._monitor(
                item,
                (prior.entries if prior else ()) + logged.entries + tuple(entries[monitor_id]),
                logged.provider_uptime_ratio,
            )
            result.append(
                replace(
                    monitor,
                    log_reasons={**(prior.log_reasons if prior else {}), **reasons[monitor_id]},
                    provider_daily_uptime=logged.provider_daily_uptime,
                )
            )
        log.info(
            "API v3: %d monitors, %d incidents, %d maintenance windows (%d requests with v2's)",
            len(result),
            len(incidents),
            len(windows),
            self.requests - before,
        )
        return Snapshot(
            source=self.name,
            monitors=tuple(result),
            maintenance_windows=windows,
            requests=self.requests - before,
        )

    def get_maintenance_windows(self) -> dict[int, MaintenanceWindow]:
        windows = {}
        for item in self._pages("maintenance-windows", {}):
            try:
                window = MaintenanceWindow.from_api_v3(item)
            except MaintenanceWindowInvalid as exc:
                raise self._http.error(UptimeRobotBadResponse, f"maintenance-windows: {exc}") from None
            windows[window.id] = window
        return windows

    def _resolution_of_incident_open_at(self, monitor_id: int, moment: int) -> int | None:
        """When the monitor's newest incident started before ``moment`` was resolved (None: still open)."""
        body = self._get("incidents", {"monitor_id": monitor_id, "started_before": _iso(moment)})
        for incident in self._data("incidents", body):
            found, started, resolved = self._incident(incident)
            if found == monitor_id and started < moment:
                return resolved
        return None

    def _pages(self, path: str, params: dict[str, Any]) -> list[dict]:
        """Every item of a cursor-paginated list: pages follow ``nextLink``'s cursor until it is null."""
        items: list[dict] = []
        cursors: set[str] = set()
        cursor = None
        while True:
            body = self._get(path, {**params, **({"cursor": cursor} if cursor else {})})
            items += self._data(path, body)
            link = body.get("nextLink")
            if not link:
                return items
            # only the cursor is taken from the link: the token goes to the configured base URL, never
            # to wherever a link points
            cursor = _cursor_of(link)
            if cursor is None or cursor in cursors:
                raise self._http.error(
                    UptimeRobotBadResponse,
                    f"{path}: nextLink {'repeats its cursor' if cursor else 'has no cursor'} "
                    f"after {len(items)} items; nothing was kept, run again",
                )
            cursors.add(cursor)

    def _data(self, path: str, body: dict) -> list[dict]:
        data = body.get("data")
        if not isinstance(data, list) or not all(isinstance(i, dict) and "id" in i for i in data):
            raise self._http.error(
                UptimeRobotBadResponse, f"{path}: answer has no `data` list of items with ids"
            )
        return data

    def _get(self, path: str, params: dict[str, Any]) -> dict:
        headers = {"Authorization": f"Bearer {self._http.secret.reveal()}", "Accept": "application/json"}
        return self._http.call(path, "GET", path, self._body, params=params, headers=headers)

    def _body(self, path: str, response: requests.Response) -> dict:
        if response.status_code == 200:
            return self._http.json_object(path, response)
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        message = body.get("message") or body.get("error") or ""
        message = "; ".join(map(str, message)) if isinstance(message, list) else str(message)
        detail = f" ({message[:200]})" if message else ""
        if response.status_code in (401, 403):
            raise self._http.error(
                UptimeRobotApiError,
                f"UptimeRobot refused {path}: HTTP {response.status_code}{detail}; check the password "
                "(API v3 token) of the `uptimerobot` connection",
                "unauthorized" if response.status_code == 401 else "forbidden",
                "token",
            )
        raise self._http.error(
            UptimeRobotApiError,
            f"UptimeRobot rejected {path}: HTTP {response.status_code}{detail}; "
            + (
                "check the base URL of the `uptimerobot` connection"
                if response.status_code == 404
                else "this is a bug in the request the client built"
            ),
            body.get("error") or str(response.status_code),
            None,
        )

    def _incident(self, item: dict) -> tuple[int, int, int | None]:
        """(monitor id, started, resolved or None) of a downtime incident, or (0, 0, None) to skip."""

        def read() -> tuple[int, int, int | None]:
            if str(item.get("type") or "").upper() == SLOW_RESPONSE:
                return 0, 0, None
            resolved = item.get("resolvedAt")
            return (
                int(item["monitor"]["id"]),
                _epoch(item["startedAt"]),
                _epoch(resolved) if resolved is not None else None,
            )

        return self._http.read_fields(f"incidents: incident {item.get('id')!r} cannot be read", read)

    def _monitor(
        self, item: dict, entries: tuple[LogEntry, ...], provider_uptime_ratio: float | None
    ) -> SourceMonitor:
        def read() -> SourceMonitor:
            return SourceMonitor(
                id=int(item["id"]),
                name=str(item.get("friendlyName") or ""),
                url=str(item.get("url") or ""),
                created_at=_epoch(item["createDateTime"]),
                status=STATUS_CODES[str(item["status"])],
                entries=entries,
                maintenance_window_ids=tuple(int(w["id"]) for w in item.get("maintenanceWindows") or ()),
                provider_uptime_ratio=provider_uptime_ratio,
            )

        return self._http.read_fields(
            f"monitors: monitor {item.get('id')!r} has a field that cannot be read", read
        )


def _reason_of(incident: dict) -> tuple[str | None, str | None]:
    """(code, detail) of an incident: its ``cause`` (a number, as v2's reason codes) and ``reason``."""
    cause, reason = incident.get("cause"), incident.get("reason")
    if isinstance(cause, float) and cause.is_integer():
        cause = int(cause)
    return (str(cause) if cause not in (None, "") else None, str(reason) if reason else None)


def _entries_of(started: int, resolved: int | None) -> list[LogEntry]:
    down = [LogEntry(started, LOG_DOWN, STARTED_ID)]
    return down if resolved is None else [*down, LogEntry(resolved, LOG_UP, RESOLVED_ID)]


def _cursor_of(link: Any) -> str | None:
    if not isinstance(link, str):
        return None
    values = parse_qs(urlsplit(link).query).get("cursor")
    return values[-1] if values and values[-1] else None


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(value: Any) -> int:
    """Epoch seconds of an ISO 8601 time (``2026-11-03T10:00:00.000Z``) or of a number."""
    if isinstance(value, bool):
        raise TypeError(f"a time, got {value!r}")
    if isinstance(value, (int, float)):
        return int(value)
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} carries no time zone")
    return int(moment.timestamp())
