"""Airflow Connections -> the library's plain settings. Used only by DAG tasks.

Credentials live in Airflow Connections (``AIRFLOW_CONN_*`` in the local stack, a secrets backend in
production). Airflow is imported inside each function so the library stays importable without it.
"""

from __future__ import annotations

from typing import Any

from reliability.adapters.pushgateway import PushgatewayConfig


def get(conn_id: str):
    from airflow.sdk import Connection

    return Connection.get(conn_id)


def exists(conn_id: str) -> bool:
    from airflow.exceptions import AirflowNotFoundException

    try:
        get(conn_id)
    except AirflowNotFoundException:
        return False
    return True


def postgres_dsn(conn_id: str, dbname: str | None = None) -> str:
    """A libpq connection string (``key=value`` form) for a postgres connection."""
    from psycopg.conninfo import make_conninfo

    conn = get(conn_id)
    extra = {
        k: v
        for k, v in conn.extra_dejson.items()
        if k in ("sslmode", "sslrootcert", "connect_timeout", "application_name", "options")
    }
    return make_conninfo(
        host=conn.host or "localhost",
        port=conn.port or 5432,
        user=conn.login or "",
        password=conn.password or "",
        dbname=dbname or conn.schema or "postgres",
        **extra,
    )


def s3_settings(conn_id: str = "reliability_s3") -> dict[str, Any]:
    conn = get(conn_id)
    extra = conn.extra_dejson
    return {
        "bucket": extra.get("bucket"),
        "endpoint_url": extra.get("endpoint_url"),
        "region_name": extra.get("region_name", "us-east-1"),
    }


def s3_bucket(conn_id: str = "reliability_s3") -> str:
    bucket = s3_settings(conn_id)["bucket"]
    if not bucket:
        raise ValueError(f"connection {conn_id} has no 'bucket' in its extra")
    return bucket


def s3_client(conn_id: str = "reliability_s3"):
    """A boto3 S3 client from the Amazon provider's hook (endpoint_url from the connection's extra)."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=conn_id).get_conn()


def pushgateway_config(conn_id: str = "reliability_pushgateway") -> PushgatewayConfig:
    conn = get(conn_id)
    host = conn.host or "localhost"
    url = (
        host
        if "://" in host
        else f"{conn.schema or 'http'}://{host}{':' + str(conn.port) if conn.port else ''}"
    )
    return PushgatewayConfig(url=url, username=conn.login or None, password=conn.password or None)


def http_base_url_and_secret(conn_id: str) -> tuple[str, str]:
    """Base URL and password of an http connection (e.g. ``uptimerobot``: the API key is the password)."""
    conn = get(conn_id)
    host = conn.host or ""
    base = (
        host
        if "://" in host
        else f"{conn.schema or 'https'}://{host}{':' + str(conn.port) if conn.port else ''}"
    )
    return base.rstrip("/"), conn.password or ""


def redis_settings(conn_id: str = "reliability_redis") -> dict[str, Any]:
    """Host, port, login, password, db and ssl of a redis connection (``extra``: ``db``, ``ssl``)."""
    conn = get(conn_id)
    extra = conn.extra_dejson
    return {
        "conn_id": conn_id,
        "host": conn.host or "localhost",
        "port": int(conn.port or 6379),
        "username": conn.login or None,
        "password": conn.password or None,
        "db": int(extra.get("db", 0)),
        "ssl": str(extra.get("ssl", "false")).lower() in ("1", "true", "yes"),
    }


def http_settings(conn_id: str) -> dict[str, Any]:
    """Base URL, login and password of an http connection (e.g. ``reliability_prometheus``)."""
    conn = get(conn_id)
    base, password = http_base_url_and_secret(conn_id)
    # http_base_url_and_secret assumes https for a SaaS API; a Prometheus inside the network is plain
    # http unless the connection names a scheme (schema field, or a URL as host).
    if "://" not in (conn.host or "") and not conn.schema:
        base = "http://" + base.removeprefix("https://")
    return {"conn_id": conn_id, "url": base, "username": conn.login or None, "password": password or None}
