"""API v3 of the fake UptimeRobot, served by :class:`stack.fake_uptimerobot.FakeUptimeRobot` from the same
data set as v2 (``GET /v3/...`` on the same port), as UptimeRobot documents v3 (see the client's docstring,
``include/reliability/sla/uptimerobot_v3.py``, for the sources):

- ``Authorization: Bearer <token>``; a missing or wrong token answers HTTP 401
  ``{"message": "Unauthorized", "statusCode": 401}``; bad parameters HTTP 400 with NestJS's
  ``{"message": [...], "error": "Bad Request", "statusCode": 400}``; unknown paths 404.
- Cursor pagination: ``{"data": [...], "nextLink": "<url with cursor=...>" | null}``.
- ``GET /v3/monitors``: ``limit`` 1..200 (default 50), ``cursor`` the last id of the previous page;
  ``id``, ``friendlyName``, ``url``, ``status`` (PAUSED, STARTED, UP, LOOKS_DOWN, DOWN),
  ``createDateTime`` (ISO 8601), ``maintenanceWindows`` (the windows, as ``/maintenance-windows`` lists them).
- ``GET /v3/incidents``: one incident per down stretch of the v2 logs (consecutive "down" entries are one
  incident), newest first, ``cursor`` the id of the last incident of the previous page, filters
  ``monitor_id``, ``started_after``, ``started_before`` (ISO 8601, exclusive); ``startedAt``,
  ``resolvedAt`` (null while ongoing), ``duration``, ``type`` DOWNTIME. The page size is not documented;
  this fake answers 100 per page.
- ``GET /v3/maintenance-windows``: ``interval`` once/daily/weekly/monthly, ``date``, ``time`` HH:mm:ss,
  ``duration`` in minutes, ``days``, ``monitorIds``, ``status`` active/paused.
- Rate limits, fault knobs and the request record are the v2 fake's, shared by both versions (the limit
  is the account's). The documented per-plan limits are :func:`plan_rate_limit`.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from stack.fake_uptimerobot import FakeMonitor, FakeMWindow, FakeUptimeRobot

MAX_MONITORS_PAGE = 200
DEFAULT_MONITORS_PAGE = 50
INCIDENTS_PAGE = 100
INCIDENT_ID_BASE = 350_000_000_000_000_000  # v3 incident ids are long digit strings
STATUS_NAMES = {0: "PAUSED", 1: "STARTED", 2: "UP", 8: "LOOKS_DOWN", 9: "DOWN"}
INTERVALS = {1: "once", 2: "daily", 3: "weekly", 4: "monthly"}


def plan_rate_limit(plan: str, monitor_limit: int = 50) -> int:
    """Requests per minute UptimeRobot allows a plan: FREE 10; PRO the monitor limit x 2, at most 5,000."""
    if plan.lower() == "free":
        return 10
    return min(2 * monitor_limit, 5000)


class BadRequest(Exception):
    pass


def answer(
    fake: FakeUptimeRobot, endpoint: str, params: dict[str, str], authorization: str
) -> tuple[int, dict]:
    """(status, JSON body) of one v3 request; ``endpoint`` like ``v3/monitors``."""
    token = authorization.removeprefix("Bearer ").strip() if authorization.startswith("Bearer ") else ""
    if not token or not secrets.compare_digest(token.encode(), fake.v3_token.encode()):
        return 401, {"message": "Unauthorized", "statusCode": 401}
    routes = {
        "v3/monitors": _monitors,
        "v3/incidents": _incidents,
        "v3/maintenance-windows": _maintenance_windows,
    }
    if endpoint not in routes:
        return 404, {"message": f"Cannot GET /{endpoint}", "error": "Not Found", "statusCode": 404}
    try:
        return 200, routes[endpoint](fake, params)
    except BadRequest as exc:
        return 400, {"message": [str(exc)], "error": "Bad Request", "statusCode": 400}


def _monitors(fake: FakeUptimeRobot, params: dict[str, str]) -> dict[str, Any]:
    now = fake.now()
    limit = _number(params, "limit", DEFAULT_MONITORS_PAGE)
    if not 1 <= limit <= MAX_MONITORS_PAGE:
        raise BadRequest(f"Limit must be between 1 and {MAX_MONITORS_PAGE}")
    after = _number(params, "cursor", 0)
    monitors = sorted(
        (m for m in fake.dataset.monitors if m.create_datetime <= now and m.id > after), key=lambda m: m.id
    )
    page = monitors[:limit]
    windows = {w.id: w for w in fake.dataset.mwindows}
    data = [
        {
            "id": m.id,
            "friendlyName": m.friendly_name,
            "url": m.url,
            "type": "HTTP",
            "interval": m.interval,
            "status": STATUS_NAMES[m.status(now)],
            "createDateTime": _iso(m.create_datetime),
            "maintenanceWindows": [_window(windows[i], fake) for i in m.mwindow_ids if i in windows],
        }
        for m in page
    ]
    more = len(monitors) > limit
    return {
        "data": data,
        "nextLink": f"{fake.url_v3}/monitors?limit={limit}&cursor={page[-1].id}" if more else None,
    }


def _incidents(fake: FakeUptimeRobot, params: dict[str, str]) -> dict[str, Any]:
    incidents = fake.v3_incidents()
    if params.get("monitor_id"):
        wanted = _number(params, "monitor_id", 0)
        incidents = [i for i in incidents if i["monitor"]["id"] == wanted]
    after, before = _time(params, "started_after"), _time(params, "started_before")
    incidents = [
        i
        for i in incidents
        if (after is None or i["_started"] > after) and (before is None or i["_started"] < before)
    ]
    if params.get("cursor"):
        cursor = params["cursor"]
        if not cursor.isdigit():
            raise BadRequest("cursor must match /^\\d+$/ regular expression")
        position = next((n for n, i in enumerate(incidents) if i["id"] == cursor), None)
        incidents = incidents[position + 1 :] if position is not None else []
    page = incidents[:INCIDENTS_PAGE]
    link = None
    if len(incidents) > INCIDENTS_PAGE:
        query = urlencode({**{k: v for k, v in params.items() if k != "cursor"}, "cursor": page[-1]["id"]})
        link = f"{fake.url_v3}/incidents?{query}"
    return {"data": [{k: v for k, v in i.items() if not k.startswith("_")} for i in page], "nextLink": link}


def _maintenance_windows(fake: FakeUptimeRobot, params: dict[str, str]) -> dict[str, Any]:
    after = _number(params, "cursor", 0)
    windows = sorted((w for w in fake.dataset.mwindows if w.id > after), key=lambda w: w.id)
    return {"data": [_window(w, fake) for w in windows], "nextLink": None}


def incidents_of(monitors: list[FakeMonitor], now: int) -> list[dict[str, Any]]:
    """The v3 incidents of the data set as of ``now``, newest first (``_started`` for filtering)."""
    found = []
    for monitor in monitors:
        logs = monitor.logs_until(now)
        for n, entry in enumerate(logs):
            if entry.type != 1 or (n and logs[n - 1].type == 1):
                continue
            end = next((e for e in logs[n + 1 :] if e.type != 1), None)
            resolved = end.datetime if end is not None else None
            found.append(
                {
                    "id": str(INCIDENT_ID_BASE + entry.id),
                    "status": "Resolved" if resolved is not None else "Ongoing",
                    "type": "DOWNTIME",
                    "cause": int(entry.reason[0]),
                    "reason": entry.reason[1],
                    "monitor": {"id": monitor.id, "friendlyName": monitor.friendly_name},
                    "commentsCount": 0,
                    "startedAt": _iso(entry.datetime),
                    "resolvedAt": _iso(resolved) if resolved is not None else None,
                    "duration": resolved - entry.datetime if resolved is not None else None,
                    "includeInReports": True,
                    "_started": entry.datetime,
                }
            )
    found.sort(key=lambda i: (i["_started"], int(i["id"])), reverse=True)
    return found


def _window(window: FakeMWindow, fake: FakeUptimeRobot) -> dict[str, Any]:
    once = window.type == 1
    start = datetime.fromtimestamp(int(window.start_time), UTC) if once else None
    clock = f"{start:%H:%M:%S}" if start else f"{window.start_time}:00"
    return {
        "id": window.id,
        "userId": 1,
        "name": window.friendly_name,
        "interval": INTERVALS[window.type],
        "date": f"{start:%Y-%m-%d}" if start else None,
        "time": clock,
        "duration": window.duration,
        "autoAddMonitors": False,
        "monitorIds": [m.id for m in fake.dataset.monitors if window.id in m.mwindow_ids],
        "days": [int(v) for v in window.value.split("-") if v],
        "status": "active" if window.status == 1 else "paused",
        "created": _iso(fake.dataset.now - 90 * 86_400),
    }


def _number(params: dict[str, str], name: str, default: int) -> int:
    if not params.get(name):
        return default
    try:
        return int(params[name])
    except ValueError:
        raise BadRequest(f"{name} must be a number conforming to the specified constraints") from None


def _time(params: dict[str, str], name: str) -> int | None:
    if not params.get(name):
        return None
    try:
        return int(datetime.fromisoformat(params[name].replace("Z", "+00:00")).timestamp())
    except ValueError:
        raise BadRequest(f"{name} must be a valid ISO 8601 date string") from None


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
