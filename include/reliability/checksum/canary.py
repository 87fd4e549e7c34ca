"""The verifier canary: a known-bad check every run must fail, or no verdict of the run can be trusted.

A small object under a configured key (``canary_key``, default ``reliability-canary/checksum.bin``)
holds fixed bytes; the job writes it when it is absent or not those bytes. Each run reads it through the
same code path as every other object (:func:`reliability.checksum.hashing.check_object`), but against
one expectation alone: the SHA-256 of those bytes with one bit flipped. The verdict must be
``mismatch``. Anything else means the verifier calls wrong bytes good (or cannot read): the run fails,
with a critical Slack message, and ``reliability_verifier_canary_ok`` is 0.

Its cost (one GET of ``canary_kib``, one HEAD, a PUT when the object is missing) is reported beside the
run's own reads.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from reliability.checksum.config import ChecksumConfig
from reliability.checksum.hashing import MISMATCH, ObjectToCheck, check_object
from reliability.checksum.s3errors import describe_error
from reliability.checksum.sources import CANARY, Expectation

_MARK = "reliability-canary-sha256"  # user metadata: the SHA-256 of the canary bytes as written


def canary_bytes(size: int) -> bytes:
    """Fixed, incompressible-looking bytes: a SHA-256 chain (the same on every run and every machine)."""
    out, block = bytearray(), b"reliability checksum canary v1"
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def wrong_expectation(data: bytes) -> Expectation:
    """The SHA-256 of ``data`` with its first bit flipped, and the right size: only the digest can catch it."""
    flipped = bytes([data[0] ^ 0x01]) + data[1:]
    return Expectation(CANARY, "sha256", hashlib.sha256(flipped).digest(), size=len(data))


def _ensure(client, bucket: str, key: str, data: bytes) -> int:
    """Write the canary unless it is there as written; the requests made."""
    from reliability.checksum.s3errors import is_not_found

    digest = hashlib.sha256(data).hexdigest()
    try:
        head = client.head_object(Bucket=bucket, Key=key)
        if head.get("ContentLength") == len(data) and (head.get("Metadata") or {}).get(_MARK) == digest:
            return 1
    except Exception as exc:
        if not is_not_found(exc):
            raise
    client.put_object(Bucket=bucket, Key=key, Body=data, Metadata={_MARK: digest})
    return 2


def verify(
    client, bucket: str, config: ChecksumConfig, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    """Check the canary; JSON-safe: key, outcome, ok (the required mismatch), cost."""
    data = canary_bytes(config.canary_bytes)
    started = time.perf_counter()
    report: dict[str, Any] = {"key": config.canary_key, "ok": False}
    try:
        setup = _ensure(client, bucket, config.canary_key, data)
    except Exception as exc:
        return {**report, "outcome": "error", "error": describe_error(exc), "seconds": 0.0, "bytes": 0}
    result = check_object(
        client,
        bucket,
        ObjectToCheck(config.canary_key, len(data)),
        config,
        sleep,
        only=wrong_expectation(data),
    )
    return {
        **report,
        "outcome": result.outcome,
        "ok": result.outcome == MISMATCH,
        "error": result.error,
        "seconds": round(time.perf_counter() - started, 4),
        "bytes": result.actual_size or 0,
        "requests": result.requests + setup,
    }
