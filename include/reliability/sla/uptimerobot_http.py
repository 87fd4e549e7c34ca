"""The HTTP layer both UptimeRobot clients (API v2 and v3) share: retries, rate limits, errors, the secret.

Failures: timeouts, connection errors and 5xx are retried with exponential backoff; 429 waits what
``Retry-After`` (or ``X-RateLimit-Reset``) says, and the transport stops before hitting the limit when
``X-RateLimit-Remaining`` reaches 0. Every other answer goes to the caller's ``parse``, which knows the
API version's body (v2 ``stat: fail``, v3 HTTP status with a JSON ``message``); it raises, never retries.

The API key (v2) or token (v3) never appears in logs or in exceptions: they carry no request and no
chained exception from ``requests`` (whose exceptions hold the request, body and headers included), and
every message passes through :meth:`Transport.error`, which masks the secret should it appear.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


class UptimeRobotError(RuntimeError):
    """Something went wrong talking to UptimeRobot; the message says what and what to do."""


class UptimeRobotApiError(UptimeRobotError):
    """UptimeRobot refused the request (v2 ``stat: fail``, v3 a 4xx answer)."""

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


class Transient(Exception):
    """A failure worth retrying; ``wait`` is what the server asked for, if it said."""

    def __init__(self, message: str, wait: float | None = None, rate_limited: bool = False):
        super().__init__(message)
        self.wait = wait
        self.rate_limited = rate_limited


class Secret:
    """Holds the API key or token so that neither ``repr`` nor ``vars`` of a client shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"


Parse = Callable[[str, requests.Response], dict]


class Transport:
    """Sends one request at a time to ``base_url`` with retries and rate-limit pacing, counting requests."""

    def __init__(
        self,
        base_url: str,
        secret: str,
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
        self.base_url = base_url
        self.secret = Secret(secret)
        self.timeout = timeout
        self.attempts = attempts
        self.max_rate_limit_wait = max_rate_limit_wait
        self.requests = 0
        self._backoff = wait_exponential_jitter(
            initial=backoff_initial, max=backoff_max, jitter=backoff_initial
        )
        self._sleep = sleep
        self.clock = clock
        self._session = session or requests.Session()
        self._not_before = 0.0  # epoch seconds: the rate limit is used up until then

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    def call(self, name: str, http_method: str, path: str, parse: Parse, **kwargs: Any) -> dict:
        """``parse(name, response)`` of the answer to ``http_method base_url/path``, retried as above.

        ``kwargs`` go to :meth:`requests.Session.request` (``data``, ``params``, ``headers``).
        """
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=retry_if_exception_type(Transient),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda state: log.warning(
                "%s failed (%s); attempt %d of %d, retrying in %.1f s",
                name,
                state.outcome.exception(),
                state.attempt_number,
                self.attempts,
                state.next_action.sleep if state.next_action else 0.0,
            ),
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._call_once(name, http_method, path, parse, kwargs)
        except Transient as exc:
            failure = exc
        kind = UptimeRobotRateLimited if failure.rate_limited else UptimeRobotUnavailable
        raise self.error(
            kind, f"{failure} (gave up after {self.attempts} attempts; nothing was kept, run again later)"
        )

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Transient) and exc.wait is not None:
            return exc.wait
        return self._backoff(state)

    def _call_once(
        self, name: str, http_method: str, path: str, parse: Parse, kwargs: dict[str, Any]
    ) -> dict:
        self._pace(name)
        self.requests += 1
        failure: Exception | None = None
        try:
            response = self._session.request(
                http_method, f"{self.base_url}/{path}", timeout=self.timeout, **kwargs
            )
        except requests.Timeout:
            failure = Transient(f"{name}: no answer from {self.base_url} within {self.timeout:g} s")
        except requests.ConnectionError as exc:
            failure = Transient(f"{name}: cannot connect to {self.base_url} ({type(exc).__name__})")
        except requests.RequestException as exc:
            failure = self.error(
                UptimeRobotError, f"{name}: request to {self.base_url} failed ({type(exc).__name__})"
            )
        if failure is not None:
            raise failure  # raised outside the except block: no chained exception carrying the request
        self._remember_limit(response)
        if response.status_code == 429:
            raise self._rate_limited(name, response)
        if response.status_code >= 500:
            raise Transient(f"{name}: HTTP {response.status_code} from {self.base_url}")
        return parse(name, response)

    def json_object(self, name: str, response: requests.Response) -> dict:
        """The answer's JSON object, or :class:`UptimeRobotBadResponse` saying what came instead."""
        try:
            body = response.json()
        except ValueError:
            body = None
            message = (
                f"{name}: answer is not JSON ({len(response.content)} bytes, "
                f"Content-Type {response.headers.get('Content-Type')!r}, starting "
                f"{response.text[:40]!r}); check the base URL, or retry if a proxy cut the answer"
            )
        else:
            message = f"{name}: answer is JSON but not an UptimeRobot object ({type(body).__name__})"
        if not isinstance(body, dict):
            raise self.error(UptimeRobotBadResponse, message)
        return body

    def _rate_limited(self, name: str, response: requests.Response) -> Exception:
        wait = seconds(response.headers.get("Retry-After"))
        if wait is None:
            wait = self._until_reset(response)
        if wait is not None and wait > self.max_rate_limit_wait:
            return self.error(
                UptimeRobotRateLimited,
                f"{name}: rate limited and asked to wait {wait:.0f} s, more than the "
                f"{self.max_rate_limit_wait:.0f} s allowed; run less often or raise the plan's limit",
            )
        return Transient(f"{name}: rate limited (HTTP 429)", wait=wait, rate_limited=True)

    def _remember_limit(self, response: requests.Response) -> None:
        remaining = seconds(response.headers.get("X-RateLimit-Remaining"))
        if remaining is not None and remaining <= 0:
            until = self._until_reset(response)
            if until is not None:
                self._not_before = self.clock() + until

    def _until_reset(self, response: requests.Response) -> float | None:
        reset = seconds(response.headers.get("X-RateLimit-Reset"))
        if reset is None:
            return None
        # the header is an epoch time; a small number can only be a count of seconds
        return max(0.0, reset - self.clock()) if reset > 1e9 else reset

    def _pace(self, name: str) -> None:
        wait = self._not_before - self.clock()
        if wait <= 0:
            return
        if wait > self.max_rate_limit_wait:
            raise self.error(
                UptimeRobotRateLimited,
                f"{name}: rate limit used up for another {wait:.0f} s, more than the "
                f"{self.max_rate_limit_wait:.0f} s allowed; run less often or raise the plan's limit",
            )
        log.info("%s: rate limit used up, waiting %.1f s for it to reset", name, wait)
        self._sleep(wait)

    def error(self, kind: type[UptimeRobotError], message: str, *args: Any) -> UptimeRobotError:
        """An exception of ``kind`` whose message cannot show the secret."""
        return kind(message.replace(self.secret.reveal(), "***"), *args)

    def read_fields(self, what: str, read: Callable[[], T]) -> T:
        """``read()``, which takes an item of an answer apart; a field it cannot read (missing, wrong type)
        is :class:`UptimeRobotBadResponse` saying ``what`` and why, raised outside the handler so that no
        exception quoting the answer is chained to it."""
        try:
            return read()
        except (KeyError, TypeError, ValueError) as exc:
            message = f"{what} ({type(exc).__name__}: {exc})"
        raise self.error(UptimeRobotBadResponse, message)


def seconds(value: str | None) -> float | None:
    """A header's number, or None when it is absent or not a finite number."""
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None
