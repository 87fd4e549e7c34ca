"""UptimeRobot API v2 client: monitors with their logs and maintenance windows, for an SLA period.

Calls are form-encoded POSTs (``https://api.uptimerobot.com/v2/<method>``) with the API key in the body.
Monitors come 50 per page (the API's maximum), each page with the logs of all its monitors, so a fetch
takes ceil(monitors / 50) getMonitors calls plus the getMWindows pages, never one call per monitor. Where
the fetched logs leave a monitor's state at their start in doubt, one more getMonitors call per 50 such
monitors asks for the entry just before. The same getMonitors calls bring UptimeRobot's uptime for the
period and for each of its UTC days (``custom_uptime_ranges`` takes several ``start_end`` ranges joined
by ``-``) and the reason (``logs[].reason {code, detail}``) of each "down" entry, for the tenant pages.

Retries, rate limits and keeping the key out of logs and errors are ``uptimerobot_http.py``'s; here,
``stat: fail`` and bodies that are not JSON raise an error naming what was wrong, never retried. A fetch
returns everything or raises, never part of the monitors; the key never appears in what it returns.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import requests

from reliability.sla.maintenance import MaintenanceWindow, MaintenanceWindowInvalid
from reliability.sla.source import FetchRequest, Snapshot, SourceMonitor
from reliability.sla.timeline import LOG_DOWN, LOG_PAUSED, LOG_TYPES, LogEntry
from reliability.sla.uptimerobot_http import (
    Transport,
    UptimeRobotApiError,
    UptimeRobotBadResponse,
    UptimeRobotError,
    UptimeRobotRateLimited,
    UptimeRobotUnavailable,
)

__all__ = [
    "UptimeRobotApiError",
    "UptimeRobotBadResponse",
    "UptimeRobotClient",
    "UptimeRobotError",
    "UptimeRobotRateLimited",
    "UptimeRobotUnavailable",
]

log = logging.getLogger(__name__)

PAGE_SIZE = 50
DAY = 86_400
DEFAULT_BASE_URL = "https://api.uptimerobot.com/v2"


class UptimeRobotClient:
    """An :class:`~reliability.sla.source.UptimeSource` reading UptimeRobot's API v2."""

    name = "uptimerobot"

    def __init__(self, base_url: str, api_key: str, **transport: Any):
        """``transport``: timeouts, attempts, backoff, rate-limit wait, sleep/clock/session (tests)."""
        if not api_key:
            raise UptimeRobotError(
                "no UptimeRobot API key: set it as the password of the `uptimerobot` connection"
            )
        base = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.base_url = base if base.endswith("/v2") else base + "/v2"
        self._http = Transport(self.base_url, api_key, **transport)

    @property
    def requests(self) -> int:
        return self._http.requests

    def __repr__(self) -> str:
        return f"UptimeRobotClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def fetch(self, request: FetchRequest) -> Snapshot:
        before = self.requests
        monitors = self.get_monitors(request)
        windows = self.get_maintenance_windows()
        return Snapshot(
            source=self.name,
            monitors=tuple(monitors),
            maintenance_windows=windows,
            requests=self.requests - before,
        )

    def get_monitors(self, request: FetchRequest) -> list[SourceMonitor]:
        """Every monitor with its logs from ``request.logs_start`` and the entry before where in doubt."""
        monitors = self.list_monitors(request)
        doubtful = [
            m
            for m in monitors
            if m.entries and min(m.entries, key=lambda e: (e.datetime, e.id)).type in (LOG_DOWN, LOG_PAUSED)
        ]
        earlier = self.monitors_before(doubtful, request.logs_start)
        return [
            replace(
                m,
                entries=earlier[m.id].entries + m.entries,
                log_reasons={**earlier[m.id].log_reasons, **m.log_reasons},
            )
            if m.id in earlier and earlier[m.id].entries
            else m
            for m in monitors
        ]

    def list_monitors(
        self, request: FetchRequest, log_types: Sequence[int] = LOG_TYPES
    ) -> list[SourceMonitor]:
        """Every monitor with its log entries of ``log_types`` since ``request.logs_start`` (50 per call),
        its maintenance window ids and UptimeRobot's uptime for ``request.uptime_range`` and each of its days."""
        range_start, range_end = request.uptime_range
        days = [(d, min(d + DAY, range_end)) for d in range(range_start - range_start % DAY, range_end, DAY)]
        # up to the present even for a report of the past: `status` is today's, and it only stands for the
        # whole range when no entry at all falls in it
        logs_end = max(request.logs_end, int(self._http.clock()))
        params = {
            "logs": 1,
            "logs_start_date": request.logs_start,
            "logs_end_date": logs_end,
            "log_types": "-".join(map(str, log_types)),
            "mwindows": 1,
            "custom_uptime_ranges": "-".join(f"{a}_{b}" for a, b in [(range_start, range_end), *days]),
        }
        day_starts = [d for d, _ in days]
        monitors = [
            self._monitor(item, day_starts) for item in self._all_pages("getMonitors", "monitors", params)
        ]
        log.info(
            "getMonitors: %d monitors, %d log entries", len(monitors), sum(len(m.entries) for m in monitors)
        )
        return monitors

    def monitors_before(self, monitors: Sequence[SourceMonitor], logs_start: int) -> dict[int, SourceMonitor]:
        """Each monitor with only its newest log entry before ``logs_start`` (none if it has none), by id.

        A first entry "up" can only follow "down", and "started" only a pause; but "down" may follow
        "down" (the error changed) and "paused" may follow anything, so for those the state when the logs
        start is in doubt. One getMonitors call per 50 monitors; monitors created since are skipped.
        """
        wanted = [m for m in monitors if m.created_at < logs_start]
        earlier: dict[int, SourceMonitor] = {}
        for i in range(0, len(wanted), PAGE_SIZE):
            chunk = wanted[i : i + PAGE_SIZE]
            params = {
                "monitors": "-".join(str(m.id) for m in chunk),
                "logs": 1,
                "logs_start_date": min(m.created_at for m in chunk),
                "logs_end_date": logs_start - 1,
                "log_types": "-".join(map(str, LOG_TYPES)),
                "logs_limit": 1,
            }
            for item in self._all_pages("getMonitors", "monitors", params):
                earlier[int(item["id"])] = self._monitor(item)
        if wanted:
            log.info("getMonitors: looked up the entry before the fetched logs for %d monitors", len(wanted))
        return earlier

    def get_maintenance_windows(self) -> dict[int, MaintenanceWindow]:
        windows = {}
        for item in self._all_pages("getMWindows", "mwindows", {}):
            try:
                window = MaintenanceWindow.from_api(item)
            except MaintenanceWindowInvalid as exc:
                raise self._error(UptimeRobotBadResponse, f"getMWindows: {exc}") from None
            windows[window.id] = window
        return windows

    def _all_pages(self, method: str, key: str, params: dict[str, Any]) -> list[dict]:
        found: dict[int, dict] = {}
        offset, pages, first_total = 0, 0, None
        while True:
            body = self._call(method, {**params, "offset": offset, "limit": PAGE_SIZE})
            pages += 1
            page, total = body.get(key), (body.get("pagination") or {}).get("total")
            if not isinstance(page, list) or not isinstance(total, int):
                raise self._error(
                    UptimeRobotBadResponse, f"{method}: answer has no `{key}` list or no `pagination.total`"
                )
            first_total = total if first_total is None else first_total
            if total != first_total:
                # offsets shift when items come or go between pages, so one could be skipped unseen
                raise self._error(
                    UptimeRobotBadResponse,
                    f"{method}: the list changed during the fetch "
                    f"({first_total} then {total} items); nothing was kept, run again",
                )
            for item in page:
                if not isinstance(item, dict) or "id" not in item:
                    raise self._error(UptimeRobotBadResponse, f"{method}: an entry of `{key}` has no id")
                found[int(item["id"])] = item
            offset += len(page)
            if offset >= total:
                break
            if not page:
                raise self._error(
                    UptimeRobotBadResponse,
                    f"{method}: page at offset {offset} is empty "
                    f"although pagination.total is {total}; nothing was kept, run again",
                )
        log.debug("%s: %d items in %d pages", method, len(found), pages)
        return list(found.values())

    def _monitor(self, item: dict, day_starts: Sequence[int] = ()) -> SourceMonitor:
        """``day_starts``: the days whose ranges follow the period's in ``custom_uptime_ranges``."""

        def read() -> SourceMonitor:
            logs = item.get("logs") or ()
            entries = tuple(
                LogEntry(
                    int(e["datetime"]), int(e["type"]), int(e.get("id") or 0), int(e.get("duration") or 0)
                )
                for e in logs
            )
            ranges = item.get("custom_uptime_ranges")
            figures = [float(f) / 100.0 for f in str(ranges).split("-")] if ranges not in (None, "") else []
            if figures and len(figures) != 1 + len(day_starts):
                raise ValueError(
                    f"custom_uptime_ranges has {len(figures)} figures, not {1 + len(day_starts)}"
                )
            created = int(item.get("create_datetime") or 0)
            return SourceMonitor(
                id=int(item["id"]),
                name=str(item.get("friendly_name") or ""),
                url=str(item.get("url") or ""),
                created_at=created,
                status=int(item.get("status", 1)),
                entries=entries,
                maintenance_window_ids=tuple(int(w["id"]) for w in item.get("mwindows") or ()),
                provider_uptime_ratio=figures[0] if figures else None,
                log_reasons=_down_reasons(logs),
                provider_daily_uptime={
                    day: ratio for day, ratio in zip(day_starts, figures[1:]) if day + DAY > created
                },
            )

        return self._http.read_fields(
            f"getMonitors: monitor {item.get('id')!r} has a field that cannot be read", read
        )

    def _call(self, method: str, params: dict[str, Any]) -> dict:
        form = {"api_key": self._http.secret.reveal(), "format": "json", **params}
        return self._http.call(
            method, "POST", method, self._body, data=form, headers={"Cache-Control": "no-cache"}
        )

    def _body(self, method: str, response: requests.Response) -> dict:
        if response.status_code != 200:
            raise self._error(
                UptimeRobotError,
                f"{method}: HTTP {response.status_code} from {self.base_url}; "
                "check the base URL of the `uptimerobot` connection",
            )
        body = self._http.json_object(method, response)
        if body.get("stat") == "fail":
            error = body.get("error") if isinstance(body.get("error"), dict) else {}
            parameter, error_type = error.get("parameter_name"), error.get("type")
            hint = (
                "check the password (API key) of the `uptimerobot` connection"
                if parameter == "api_key"
                else "this is a bug in the request the client built"
            )
            # passed_value is left out on purpose: for api_key it is (part of) the secret
            detail = f": {error['message']}" if error.get("message") else ""
            raise self._error(
                UptimeRobotApiError,
                f"UptimeRobot rejected {method}: {error_type or 'error'} "
                f"for parameter {parameter!r}{detail}; {hint}",
                error_type,
                parameter,
            )
        if body.get("stat") != "ok":
            raise self._error(
                UptimeRobotBadResponse, f"{method}: answer has stat {body.get('stat')!r}, not 'ok'"
            )
        return body

    def _error(self, kind: type[UptimeRobotError], message: str, *args: Any) -> UptimeRobotError:
        return self._http.error(kind, message, *args)


def _down_reasons(logs: Sequence[dict]) -> dict[int, tuple[str | None, str | None]]:
    """UptimeRobot's ``reason {code, detail}`` of each "down" entry, by the entry's time."""
    found = {}
    for e in logs:
        reason = e.get("reason")
        if int(e["type"]) == LOG_DOWN and isinstance(reason, dict):
            code, detail = reason.get("code"), reason.get("detail")
            found[int(e["datetime"])] = (
                str(code) if code not in (None, "") else None,
                str(detail) if detail else None,
            )
    return found
