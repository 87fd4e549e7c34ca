"""Real Prometheus and Alertmanager, configured from monitoring/, for the end-to-end alerting tests.

`pushgateway` and `slack_server` (the fake Slack webhook) are session fixtures of tests/conftest.py;
tests read what arrived through its per-test view `slack_receiver`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.monitoring.alert_delivery import Server, SmtpSink, running_alertmanager, running_prometheus


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="session")
def alertmanager_server(slack_server, smtp_sink, tmp_path_factory) -> Iterator[Server]:
    with running_alertmanager(
        tmp_path_factory.mktemp("alertmanager"), slack_server.url, smtp_sink.address
    ) as server:
        yield server


@pytest.fixture(scope="session")
def prometheus_server(pushgateway, alertmanager_server, tmp_path_factory) -> Iterator[Server]:
    with running_prometheus(
        tmp_path_factory.mktemp("prometheus"), pushgateway.url, alertmanager_server.url
    ) as server:
        yield server
