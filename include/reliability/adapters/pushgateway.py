"""Push a job's gauges to the Prometheus Pushgateway with prometheus_client.

One group per job and subject (``job=<dag id>`` plus e.g. ``database``). Pushes use POST
(``pushadd``): the metrics of this run replace those of the same name in the group, while metrics this
run does not carry (the last *success* timestamp after a failed run) survive.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from reliability.core.outcome import Metric

log = logging.getLogger(__name__)


class PushFailed(RuntimeError):
    """The Pushgateway did not accept the push after all attempts."""


@dataclass(frozen=True)
class PushgatewayConfig:
    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0
    attempts: int = 3
    backoff_seconds: float = 1.0

    @property
    def safe_url(self) -> str:
        """The URL without any credentials, for messages."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}{parts.path}"


def build_registry(metrics: Iterable[Metric]):
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry()
    gauges: dict[str, Gauge] = {}
    for metric in metrics:
        labelnames = tuple(sorted(metric.labels))
        gauge = gauges.get(metric.name)
        if gauge is None:
            gauge = gauges[metric.name] = Gauge(
                metric.name, metric.documentation or metric.name, labelnames=labelnames, registry=registry
            )
        elif tuple(sorted(gauge._labelnames)) != labelnames:
            raise ValueError(
                f"metric {metric.name} pushed with label sets {gauge._labelnames} and {labelnames}"
            )
        (gauge.labels(**metric.labels) if labelnames else gauge).set(metric.value)
    return registry


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, HTTPError):
        return exc.code >= 500 or exc.code == 429
    return isinstance(exc, (URLError, OSError))


def push_metrics(
    config: PushgatewayConfig, job: str, grouping: dict[str, str], metrics: Iterable[Metric]
) -> None:
    """Push ``metrics`` into the group ``job`` + ``grouping``; raise :class:`PushFailed` with the reason."""
    from prometheus_client import pushadd_to_gateway
    from prometheus_client.exposition import basic_auth_handler, default_handler
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

    registry = build_registry(metrics)

    def handler(url, method, timeout, headers, data):
        if config.username:
            return basic_auth_handler(
                url, method, timeout, headers, data, config.username, config.password or ""
            )
        return default_handler(url, method, timeout, headers, data)

    try:
        for attempt in Retrying(
            stop=stop_after_attempt(config.attempts),
            reraise=True,
            wait=wait_exponential(multiplier=config.backoff_seconds, max=30),
            retry=retry_if_exception(_is_retryable),
        ):
            with attempt:
                pushadd_to_gateway(
                    config.url,
                    job=job,
                    registry=registry,
                    grouping_key=grouping,
                    timeout=config.timeout,
                    handler=handler,
                )
    except Exception as exc:
        reason = (
            f"HTTP {exc.code} {exc.reason}"
            if isinstance(exc, HTTPError)
            else (str(getattr(exc, "reason", exc)) or type(exc).__name__)
        )
        raise PushFailed(
            f"push of {job} {grouping} to the Pushgateway at {config.safe_url} failed "
            f"after {config.attempts} attempts: {reason}"
        ) from None
    log.info(
        "pushed %d metric families for %s %s to %s",
        len(list(registry.collect())),
        job,
        grouping,
        config.safe_url,
    )
