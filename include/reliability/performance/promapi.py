"""Prometheus's HTTP API (``/api/v1/query``, ``/api/v1/query_range``): the few calls the watchdog makes.

Every failure is a :class:`QueryFailed` that shows the query and the connection, never credentials, so
an operator can paste the query into the Prometheus UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reliability.core.scrub import scrub_text


class QueryFailed(RuntimeError):
    """Prometheus could not be reached or did not answer a query; the message shows the query."""


@dataclass(frozen=True)
class PrometheusSettings:
    conn_id: str
    url: str  # base URL, e.g. http://prometheus:9090
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        return f"connection {self.conn_id} ({scrub_text(self.url, [self.password])})"


def query(settings: PrometheusSettings, promql: str, at: datetime, timeout: float = 30) -> list[dict]:
    """An instant vector: ``[{"metric": {...}, "value": [ts, "1.5"]}, ...]``."""
    return _call(settings, "query", {"query": promql, "time": at.timestamp()}, promql, timeout)


def query_range(
    settings: PrometheusSettings, promql: str, start: datetime, end: datetime, step: int, timeout: float = 30
) -> list[dict]:
    """A range matrix: ``[{"metric": {...}, "values": [[ts, "1.5"], ...]}, ...]``."""
    params = {"query": promql, "start": start.timestamp(), "end": end.timestamp(), "step": step}
    return _call(settings, "query_range", params, promql, timeout)


def _call(
    settings: PrometheusSettings, endpoint: str, params: dict, promql: str, timeout: float
) -> list[dict]:
    import requests

    auth = (settings.username, settings.password or "") if settings.username else None
    url = f"{settings.url.rstrip('/')}/api/v1/{endpoint}"
    try:
        response = requests.post(url, data=params, auth=auth, timeout=timeout)
    except requests.RequestException as exc:
        reason = scrub_text(str(exc), [settings.password])[:300]
        raise QueryFailed(f"Prometheus at {settings.where} unreachable ({reason}); query: {promql}") from None
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or body.get("status") != "success":
        detail = body.get("error") or response.reason or "no answer"
        kind = body.get("errorType") or f"HTTP {response.status_code}"
        raise QueryFailed(
            f"Prometheus at {settings.where} refused the query ({kind}: {detail}); query: {promql}"
        )
    return body["data"]["result"]


def sample(value: Any) -> float | None:
    """A sample's value as a float; NaN and infinities (no data, empty buckets) as None."""
    number = float(value)
    return None if number != number or number in (float("inf"), float("-inf")) else number
