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
