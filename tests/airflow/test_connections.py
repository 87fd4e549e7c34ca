"""Connection fields -> URLs, as the Pushgateway and UptimeRobot settings read them."""

from types import SimpleNamespace

import pytest

from reliability.airflow.connections import base_url


@pytest.mark.parametrize(
    ("host", "port", "schema", "expected"),
    [
        ("pushgateway", 9091, None, "http://pushgateway:9091"),
        ("pushgateway", None, "https", "https://pushgateway"),
        (None, None, None, "http://localhost"),
        ("https://api.example.com/v3", 8443, "http", "https://api.example.com/v3"),
    ],
)
def test_base_url_builds_or_keeps_a_url(host, port, schema, expected):
    conn = SimpleNamespace(host=host, port=port, schema=schema)
    assert base_url(conn, default_host="localhost", default_scheme="http") == expected
