"""Session-wide real servers for the whole suite, and a fresh database or bucket for each test.

PostgreSQL (initdb/pg_ctl), moto's S3 server, the Prometheus Pushgateway and the fake Slack webhook are
started once per test session (once per xdist worker) on free ports and stopped at the end.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from stack.fake_slack import FakeSlack
from stack.postgres import PgCluster
from stack.processes import free_port, stop_process
from stack.services import start_moto, start_pushgateway

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def stack_dir():
    # PostgreSQL runs as another user when we are root, so the folder must be traversable (pytest's are 0700).
    path = Path(tempfile.mkdtemp(prefix="reliability-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster(stack_dir):
    cluster = PgCluster.create(stack_dir / "postgres")
    cluster.start()
    yield cluster
    cluster.destroy()


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def results_dsn(pg_cluster):
    """A fresh, migrated results store."""
    from reliability.core.store import migrate

    name = _unique("results")
    dsn = pg_cluster.create_database(name)
    migrate(dsn)
    yield dsn
    pg_cluster.drop_database(name)


@pytest.fixture(scope="session")
def s3_server(stack_dir):
    port = free_port()
    url = start_moto(stack_dir, port)
    yield url
    stop_process("s3", stack_dir)


@pytest.fixture(scope="session")
def s3_client(s3_server):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def s3_bucket(s3_client):
    """A fresh, empty bucket on the S3 server."""
    name = _unique("bucket").replace("_", "-")
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def pushgateway(stack_dir):
    port = free_port()

    class Gateway:
        url = start_pushgateway(stack_dir, port)

    yield Gateway
    stop_process("pushgateway", stack_dir)


@pytest.fixture(scope="session")
def slack_server():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def slack_receiver(slack_server):
    """The fake Slack webhook, emptied for this test."""
    slack_server.clear()
    return slack_server


# --- The platform's Redis and Prometheus, for performance_watchdog (tests/performance, tests/e2e) ---------


@pytest.fixture(scope="session")
def platform_redis(stack_dir):
    """redis-server with a password (the platform's cache): ``.port`` and ``.password``."""
    import secrets

    from stack.services import start_platform_redis

    class Redis:
        port = free_port()
        password = f"r3dis-{secrets.token_hex(8)}"

    start_platform_redis(stack_dir, Redis.port, Redis.password, name="platform-redis")
    yield Redis
    stop_process("platform-redis", stack_dir)


@pytest.fixture(scope="session")
def platform_metrics():
    """The platform-metrics stand-in (stack/platform_metrics.py): slow for the first 8 s of every 20 s."""
    from stack.platform_metrics import PlatformMetrics

    exporter = PlatformMetrics(cycle_seconds=20, slow_seconds=8).start()
    yield exporter
    exporter.stop()


@pytest.fixture(scope="session")
def platform_prometheus(stack_dir, platform_metrics):
    """Real Prometheus scraping the stand-in every second, as ``PrometheusSettings`` (connection id
    ``reliability_prometheus``)."""
    from reliability.performance.promapi import PrometheusSettings
    from stack.services import start_platform_prometheus

    url = start_platform_prometheus(stack_dir, free_port(), [platform_metrics.address])
    yield PrometheusSettings("reliability_prometheus", url)
    stop_process("platform-prometheus", stack_dir)
