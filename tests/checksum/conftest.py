"""Fixtures of the checksum tests: the fault proxy in front of moto, a client reading through it, fast settings."""

from __future__ import annotations

import pytest

from reliability.checksum.config import ChecksumConfig
from tests.checksum.support import FaultProxy, s3_client_for


@pytest.fixture
def fault_proxy(s3_server):
    proxy = FaultProxy(s3_server).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def proxied_client(fault_proxy):
    """A client reading through the fault proxy; botocore itself tries each request twice."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=fault_proxy.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=5, read_timeout=10
        ),
    )


@pytest.fixture
def bare_client(s3_server):
    """A client that sends no checksum of its own (botocore's default adds a CRC32 to every upload)."""
    return s3_client_for(s3_server, request_checksum_calculation="when_required")


@pytest.fixture
def config():
    """Small, fast settings: tiny chunks (so even small objects stream in many reads), no real backoff waits."""
    return ChecksumConfig(
        byte_budget=1024**3,
        shard_count=3,
        min_shard_bytes=1,
        concurrency=3,
        chunk_bytes=4096,
        read_attempts=3,
        retry_backoff_seconds=0.001,
        retry_backoff_max_seconds=0.01,
        manifest_grace_hours=1,
    )
