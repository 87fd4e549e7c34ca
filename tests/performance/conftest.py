"""Real servers for the performance watchdog: a password-protected redis-server (the platform's cache)."""

from __future__ import annotations

import pytest

from reliability.performance.redis_latency import RedisSettings
from stack.processes import free_port, stop_process
from stack.services import start_platform_redis

REDIS_PASSWORD = "r3dis-s3cret-pw-7731"


@pytest.fixture(scope="session")
def redis_server(stack_dir):
    port = free_port()
    start_platform_redis(stack_dir, port, REDIS_PASSWORD, name="platform-redis")
    yield port
    stop_process("platform-redis", stack_dir)


@pytest.fixture
def redis_settings(redis_server) -> RedisSettings:
    return RedisSettings("reliability_redis", "127.0.0.1", redis_server, password=REDIS_PASSWORD)


@pytest.fixture
def redis_admin(redis_server):
    """A client with full rights, for arranging the server (latency monitor off, ACL users, DEBUG SLEEP)."""
    import redis

    client = redis.Redis(port=redis_server, password=REDIS_PASSWORD)
    client.config_set("latency-monitor-threshold", 0)
    client.execute_command("LATENCY", "RESET")
    yield client
    client.close()


@pytest.fixture
def platform_dsn(pg_cluster):
    """An empty platform database (the platform's schema, one tenant, no assistant calls)."""
    import uuid

    from stack.platform import SCHEMA

    name = f"platform_{uuid.uuid4().hex[:10]}"
    dsn = pg_cluster.create_database(name)
    with pg_cluster.connect(name) as conn:
        conn.execute(SCHEMA.read_text())
        conn.execute("INSERT INTO tenants (slug, name, plan) VALUES ('tenant-001', 'Tenant 1', 'pro')")
        conn.commit()
    yield dsn
    pg_cluster.drop_database(name)


def insert_calls(dsn: str, calls: list[tuple[str, str, int, str, str]]) -> None:
    """``(provider, model, latency_ms, status, called_at)`` rows into assistant_calls."""
    import psycopg

    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO assistant_calls (tenant_id, provider, model, prompt_tokens, completion_tokens,
                                            latency_ms, status, called_at)
               VALUES (1, %s, %s, 10, 10, %s, %s, %s)""",
            calls,
        )


CYCLE_SECONDS, SLOW_SECONDS = 20.0, 8.0


@pytest.fixture(scope="session")
def platform_metrics():
    """The platform-metrics stand-in: slow for the first 8 s of every 20 s since it started."""
    from stack.platform_metrics import PlatformMetrics

    exporter = PlatformMetrics(cycle_seconds=CYCLE_SECONDS, slow_seconds=SLOW_SECONDS).start()
    yield exporter
    exporter.stop()


@pytest.fixture(scope="session")
def platform_prometheus(stack_dir, platform_metrics):
    """Real Prometheus scraping the stand-in every second; its settings as the job gets them."""
    from reliability.performance.promapi import PrometheusSettings
    from stack.services import start_platform_prometheus

    url = start_platform_prometheus(stack_dir, free_port(), [platform_metrics.address])
    yield PrometheusSettings("reliability_prometheus", url)
    stop_process("platform-prometheus", stack_dir)


def wait_for_history(exporter, seconds: float) -> None:
    """Sleep until the exporter has served for ``seconds`` (Prometheus scraped it all along)."""
    import time

    remaining = exporter.started + seconds - time.time()
    if remaining > 0:
        time.sleep(remaining)
