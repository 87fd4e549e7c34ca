"""UptimeRobot API v2 client: monitors with their logs and maintenance windows, for an SLA period.

Calls are form-encoded POSTs (``https://api.uptimerobot.com/v2/<method>``) with the API key in the body.
Monitors come 50 per page (the API's maximum), each page with the logs of all its monitors, so a fetch
takes ceil(monitors / 50) getMonitors calls plus the getMWindows pages, never one call per monitor. Where
the fetched logs leave a monitor's state at their start in doubt, one more getMonitors call per 50 such
monitors asks for the entry just before.

Failures: timeouts, connection errors and 5xx are retried with exponential backoff; 429 waits what
``Retry-After`` (or ``X-RateLimit-Reset``) says, and the client stops before hitting the limit when
``X-RateLimit-Remaining`` reaches 0. ``stat: fail`` and bodies that are not JSON are not retried: they
raise an error naming what was wrong. A fetch returns everything or raises, never part of the monitors.

The API key never appears in logs, in exceptions (they carry no request and no chained exception from
``requests``, whose exceptions hold the request body) or in what ``fetch`` returns.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from reliability.sla.maintenance import MaintenanceWindow, MaintenanceWindowInvalid
from reliability.sla.source import FetchRequest, Snapshot, SourceMonitor
from reliability.sla.timeline import LOG_DOWN, LOG_PAUSED, LOG_TYPES, LogEntry

log = logging.getLogger(__name__)

PAGE_SIZE = 50
DEFAULT_BASE_URL = "https://api.uptimerobot.com/v2"


class UptimeRobotError(RuntimeError):
    """Something went wrong talking to UptimeRobot; the message says what and what to do."""


class UptimeRobotApiError(UptimeRobotError):
    """UptimeRobot answered ``stat: fail``."""

    def __init__(self, message: str, error_type: str | None, parameter: str | None):
        super().__init__(message)
        self.error_type = error_type
        self.parameter = parameter


class UptimeRobotBadResponse(UptimeRobotError):
    """The answer is not the JSON UptimeRobot sends (a proxy page, a truncated body, a wrong base URL)."""


class UptimeRobotUnavailable(UptimeRobotError):
    """Timeouts, connection errors or 5xx answers outlasted the retries."""


class UptimeRobotRateLimited(UptimeRobotError):
    """The rate limit asks for a longer wait than this client is allowed to wait."""


class _Transient(Exception):
    """A failure worth retrying; ``wait`` is what the server asked for, if it said."""

    def __init__(self, message: str, wait: float | None = None, rate_limited: bool = False):
        super().__init__(message)
        self.wait = wait
        self.rate_limited = rate_limited


class _Secret:
    """Holds the API key so that neither ``repr`` nor ``vars`` of the client shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"


class UptimeRobotClient:
    """An :class:`~reliability.sla.source.UptimeSource` reading UptimeRobot's API v2."""

    name = "uptimerobot"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        attempts: int = 5,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        max_rate_limit_wait: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
    ):
        if not api_key:
            raise UptimeRobotError(
                "no UptimeRobot API key: set it as the password of the `uptimerobot` connection"
            )
        base = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.base_url = base if base.endswith("/v2") else base + "/v2"
        self._api_key = _Secret(api_key)
        self.timeout = timeout
        self.attempts = attempts
        self.max_rate_limit_wait = max_rate_limit_wait
        self.requests = 0
        self._backoff = wait_exponential_jitter(
            initial=backoff_initial, max=backoff_max, jitter=backoff_initial
        )
        self._sleep = sleep
        self._clock = clock
        self._session = session or requests.Session()
        self._not_before = 0.0  # epoch seconds: the rate limit is used up until then

    def __repr__(self) -> str:
        return f"UptimeRobotClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._session.close()

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
        range_start, range_end = request.uptime_range
        # up to the present even for a report of the past: `status` is today's, and it only stands for the
        # whole range when no entry at all falls in it
        logs_end = max(request.logs_end, int(self._clock()))
        params = {
            "logs": 1,
            "logs_start_date": request.logs_start,
            "logs_end_date": logs_end,
            "log_types": "-".join(map(str, LOG_TYPES)),
            "mwindows": 1,
            "custom_uptime_ranges": f"{range_start}_{range_end}",
        }
        monitors = [self._monitor(item) for item in self._all_pages("getMonitors", "monitors", params)]
        monitors = self._with_entry_before(monitors, request.logs_start)
        log.info(
            "getMonitors: %d monitors, %d log entries", len(monitors), sum(len(m.entries) for m in monitors)
        )
        return monitors

    def _with_entry_before(self, monitors: list[SourceMonitor], logs_start: int) -> list[SourceMonitor]:
        """Add the last entry before ``logs_start`` where the fetched ones leave the state then in doubt.

        A first entry "up" can only follow "down", and "started" only a pause; but "down" may follow
        "down" (the error changed) and "paused" may follow anything. For those monitors one more
        getMonitors call per 50 of them asks for their newest entry before ``logs_start``.
        """
        doubtful = [
            m
            for m in monitors
            if m.created_at < logs_start
            and m.entries
            and min(m.entries, key=lambda e: (e.datetime, e.id)).type in (LOG_DOWN, LOG_PAUSED)
        ]
        earlier: dict[int, tuple[LogEntry, ...]] = {}
        for i in range(0, len(doubtful), PAGE_SIZE):
            chunk = doubtful[i : i + PAGE_SIZE]
            params = {
                "monitors": "-".join(str(m.id) for m in chunk),
                "logs": 1,
                "logs_start_date": min(m.created_at for m in chunk),
                "logs_end_date": logs_start - 1,
                "log_types": "-".join(map(str, LOG_TYPES)),
                "logs_limit": 1,
            }
            for item in self._all_pages("getMonitors", "monitors", params):
                earlier[int(item["id"])] = self._monitor(item).entries
        if doubtful:
            log.info(
                "getMonitors: looked up the entry before the fetched logs for %d monitors", len(doubtful)
            )
        return [replace(m, entries=earlier[m.id] + m.entries) if earlier.get(m.id) else m for m in monitors]

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

    def _monitor(self, item: dict) -> SourceMonitor:
        try:
            entries = tuple(
                LogEntry(
                    int(e["datetime"]), int(e["type"]), int(e.get("id") or 0), int(e.get("duration") or 0)
                )
                for e in item.get("logs") or ()
            )
            ranges = item.get("custom_uptime_ranges")
            provider = float(str(ranges).split("-")[0]) / 100.0 if ranges not in (None, "") else None
            return SourceMonitor(
                id=int(item["id"]),
                name=str(item.get("friendly_name") or ""),
                url=str(item.get("url") or ""),
                created_at=int(item.get("create_datetime") or 0),
                status=int(item.get("status", 1)),
                entries=entries,
                maintenance_window_ids=tuple(int(w["id"]) for w in item.get("mwindows") or ()),
                provider_uptime_ratio=provider,
            )
        except (KeyError, TypeError, ValueError) as exc:
            message = (
                f"getMonitors: monitor {item.get('id')!r} has a field that cannot be read "
                f"({type(exc).__name__}: {exc})"
            )
        raise self._error(UptimeRobotBadResponse, message)

    def _call(self, method: str, params: dict[str, Any]) -> dict:
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda state: log.warning(
                "%s failed (%s); attempt %d of %d, retrying in %.1f s",
                method,
                state.outcome.exception(),
                state.attempt_number,
                self.attempts,
                state.next_action.sleep if state.next_action else 0.0,
            ),
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._call_once(method, params)
        except _Transient as exc:
            failure = exc
        kind = UptimeRobotRateLimited if failure.rate_limited else UptimeRobotUnavailable
        raise self._error(
            kind, f"{failure} (gave up after {self.attempts} attempts; nothing was kept, run again later)"
        )

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.wait is not None:
            return exc.wait
        return self._backoff(state)

    def _call_once(self, method: str, params: dict[str, Any]) -> dict:
        self._pace(method)
        url = f"{self.base_url}/{method}"
        form = {"api_key": self._api_key.reveal(), "format": "json", **params}
        self.requests += 1
        failure: Exception | None = None
        try:
            response = self._session.post(
                url, data=form, timeout=self.timeout, headers={"Cache-Control": "no-cache"}
            )
        except requests.Timeout:
            failure = _Transient(f"{method}: no answer from {self.base_url} within {self.timeout:g} s")
        except requests.ConnectionError as exc:
            failure = _Transient(f"{method}: cannot connect to {self.base_url} ({type(exc).__name__})")
        except requests.RequestException as exc:
            failure = self._error(
                UptimeRobotError, f"{method}: request to {self.base_url} failed ({type(exc).__name__})"
            )
        if failure is not None:
            raise failure  # raised outside the except block: no chained exception carrying the request body
        self._remember_limit(response)
        if response.status_code == 429:
            raise self._rate_limited(method, response)
        if response.status_code >= 500:
            raise _Transient(f"{method}: HTTP {response.status_code} from {self.base_url}")
        if response.status_code != 200:
            raise self._error(
                UptimeRobotError,
                f"{method}: HTTP {response.status_code} from {self.base_url}; "
                "check the base URL of the `uptimerobot` connection",
            )
        return self._body(method, response)

    def _body(self, method: str, response: requests.Response) -> dict:
        try:
            body = response.json()
        except ValueError:
            body = None
            message = (
                f"{method}: answer is not JSON ({len(response.content)} bytes, "
                f"Content-Type {response.headers.get('Content-Type')!r}, starting "
                f"{response.text[:40]!r}); check the base URL, or retry if a proxy cut the answer"
            )
        else:
            message = f"{method}: answer is JSON but not an UptimeRobot object ({type(body).__name__})"
        if not isinstance(body, dict):
            raise self._error(UptimeRobotBadResponse, message)
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

    def _rate_limited(self, method: str, response: requests.Response) -> Exception:
        wait = _seconds(response.headers.get("Retry-After"))
        if wait is None:
            wait = self._until_reset(response)
        if wait is not None and wait > self.max_rate_limit_wait:
            return self._error(
                UptimeRobotRateLimited,
                f"{method}: rate limited and asked to wait {wait:.0f} s, more than the "
                f"{self.max_rate_limit_wait:.0f} s allowed; run less often or raise the plan's limit",
            )
        return _Transient(f"{method}: rate limited (HTTP 429)", wait=wait, rate_limited=True)

    def _remember_limit(self, response: requests.Response) -> None:
        remaining = _seconds(response.headers.get("X-RateLimit-Remaining"))
        if remaining is not None and remaining <= 0:
            until = self._until_reset(response)
            if until is not None:
                self._not_before = self._clock() + until

    def _until_reset(self, response: requests.Response) -> float | None:
        reset = _seconds(response.headers.get("X-RateLimit-Reset"))
        if reset is None:
            return None
        # the header is an epoch time; a small number can only be a count of seconds
        return max(0.0, reset - self._clock()) if reset > 1e9 else reset

    def _pace(self, method: str) -> None:
        wait = self._not_before - self._clock()
        if wait <= 0:
            return
        if wait > self.max_rate_limit_wait:
            raise self._error(
                UptimeRobotRateLimited,
                f"{method}: rate limit used up for another {wait:.0f} s, more than the "
                f"{self.max_rate_limit_wait:.0f} s allowed; run less often or raise the plan's limit",
            )
        log.info("%s: rate limit used up, waiting %.1f s for it to reset", method, wait)
        self._sleep(wait)

    def _error(self, kind: type[UptimeRobotError], message: str, *args: Any) -> UptimeRobotError:
        return kind(message.replace(self._api_key.reveal(), "***"), *args)


def _seconds(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None
