"""The two connections the watchdog adds, read from ``AIRFLOW_CONN_*`` as in the local stack and docker-compose."""

from __future__ import annotations

import json

import pytest

from reliability.airflow import connections


@pytest.mark.parametrize(
    "conn, url",
    [
        ({"conn_type": "http", "host": "prometheus", "port": 9090}, "http://prometheus:9090"),
        ({"conn_type": "http", "host": "prom.example.com", "schema": "https"}, "https://prom.example.com"),
        (
            {"conn_type": "http", "host": "https://prom.example.com/prometheus"},
            "https://prom.example.com/prometheus",
        ),
    ],
)
def test_prometheus_connection_is_plain_http_unless_it_names_a_scheme(monkeypatch, conn, url):
    monkeypatch.setenv(
        "AIRFLOW_CONN_RELIABILITY_PROMETHEUS", json.dumps({**conn, "login": "ro", "password": "pw"})
    )
    settings = connections.http_settings("reliability_prometheus")
    assert settings == {"conn_id": "reliability_prometheus", "url": url, "username": "ro", "password": "pw"}


def test_redis_connection_carries_db_and_tls_from_extra(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_RELIABILITY_REDIS",
        json.dumps(
            {
                "conn_type": "redis",
                "host": "cache",
                "port": 6380,
                "password": "s3",
                "extra": {"db": 2, "ssl": True},
            }
        ),
    )
    assert connections.redis_settings() == {
        "conn_id": "reliability_redis",
        "host": "cache",
        "port": 6380,
        "username": None,
        "password": "s3",
        "db": 2,
        "ssl": True,
    }
