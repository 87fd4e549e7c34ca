"""Per-test views of the session's servers (root conftest: ``platform_redis``, ``platform_prometheus``)."""

from __future__ import annotations

import pytest

from reliability.performance.redis_latency import RedisSettings


@pytest.fixture
def redis_settings(platform_redis) -> RedisSettings:
    return RedisSettings(
        "reliability_redis", "127.0.0.1", platform_redis.port, password=platform_redis.password
    )


@pytest.fixture
def redis_admin(platform_redis):
    """A client with full rights, for arranging the server (latency monitor off, ACL users, DEBUG SLEEP)."""
    import redis

    client = redis.Redis(port=platform_redis.port, password=platform_redis.password)
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
