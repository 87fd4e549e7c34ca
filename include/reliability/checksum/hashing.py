"""Re-read stored objects and hash them as streams, several at once, with bounded memory.

One GET per object: its response carries the size, the user metadata and (with ``ChecksumMode=ENABLED``)
S3's checksum headers, so no HEAD is needed; the body is hashed chunk by chunk as it arrives. Memory is
about ``concurrency x chunk_bytes`` whatever the objects' sizes. ``hashlib`` releases the GIL while it
hashes, so threads overlap one object's hashing with other objects' network reads.

A read that fails in a way worth retrying (throttling, 5xx, a timeout, a connection dropped mid-body) is
retried as a whole new GET, with exponential backoff and jitter, up to ``read_attempts`` times; botocore
retries the request itself first, but never a body that breaks off half-way. What still fails becomes
an ``error`` result for that object alone: it is not a verdict (the bytes' integrity is unknown, not bad),
it is stored with its reason and counted, and the other objects' verdicts are unaffected.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reliability.checksum.config import ChecksumConfig
from reliability.checksum.sources import Expected, ManifestProblem, expected_from_manifest, resolve

OK, MISMATCH, SIZE_MISMATCH, MISSING, UNVERIFIABLE = (
    "ok",
    "mismatch",
    "size_mismatch",
    "missing",
    "unverifiable",
)
VERDICTS = (OK, MISMATCH, SIZE_MISMATCH, MISSING, UNVERIFIABLE)
# Not verdicts: the read failed after its retries, or the object was deleted after it was listed.
ERROR, VANISHED = "error", "vanished"
OUTCOMES = VERDICTS + (ERROR, VANISHED)

_RETRYABLE_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "TooManyRequests",
    "RequestLimitExceeded",
    "RequestTimeout",
    "InternalError",
    "ServiceUnavailable",
    "BadGateway",
    "GatewayTimeout",
}
_NOT_FOUND_CODES = {"NoSuchKey", "NotFound", "404"}
_HOOK_ID = "reliability.checksum.skip-sdk-response-validation"


@dataclass(frozen=True)
class ObjectToCheck:
    key: str
    size: int  # as listed; the read may find another size if the object changed since
    manifest_key: str | None = None


@dataclass(frozen=True)
class CheckResult:
    key: str
    outcome: str
    source: str | None = None
    expected_sha256: str | None = None
    actual_sha256: str | None = None
    expected_size: int | None = None
    actual_size: int | None = None
    etag: str | None = None  # of the version actually read
    last_modified: datetime | None = None
    attempts: int = 0  # GETs of the object (retries included)
    error: str | None = None
    notes: tuple[str, ...] = ()
    manifest_problem: str | None = None
    seconds: float = 0.0

    @property
    def is_verdict(self) -> bool:
        return self.outcome in VERDICTS


class _NotFound(Exception):
    pass


class _ReadFailed(Exception):
    def __init__(self, cause: BaseException, attempts: int):
        super().__init__(describe_error(cause))
        self.cause, self.attempts = cause, attempts


def describe_error(exc: BaseException) -> str:
    """What failed, without the request's signature or credentials (botocore messages carry neither)."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"{error.get('Code', 'error')} (HTTP {status}): {error.get('Message', '')}".strip()[:300]
    return f"{type(exc).__name__}: {exc}"[:300]


def is_retryable(exc: BaseException) -> bool:
    from botocore.exceptions import (
        ClientError,
        ConnectionError,
        IncompleteReadError,
        ReadTimeoutError,
        ResponseStreamingError,
    )
    from urllib3.exceptions import HTTPError as Urllib3Error

    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in _RETRYABLE_CODES or status >= 500 or status == 429
    return isinstance(
        exc,
        (
            ConnectionError,
            ReadTimeoutError,
            ResponseStreamingError,
            IncompleteReadError,
            Urllib3Error,
            OSError,
        ),
    )


def _is_not_found(exc: BaseException) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _NOT_FOUND_CODES


def _skip_sdk_response_validation(context: dict, **_: Any) -> None:
    # With ChecksumMode=ENABLED botocore would hash the body again to check S3's checksum, which we do
    # ourselves (and against a manifest or metadata it knows nothing about): one hash per byte is enough.
    context.get("checksum", {}).pop("response_algorithms", None)


def prepare_client(client) -> None:
    """Register the hook above on ``client`` (idempotent). The job's client is its own (one per task), so
    nothing else loses botocore's response validation."""
    client.meta.events.register("before-call.s3.GetObject", _skip_sdk_response_validation, unique_id=_HOOK_ID)


class _Reader:
    """Reads with retries; one instance per object check."""

    def __init__(self, client, bucket: str, config: ChecksumConfig, sleep: Callable[[float], None]):
        self.client, self.bucket, self.config, self.sleep = client, bucket, config, sleep

    def retrying(self, read: Callable[[], Any]) -> tuple[Any, int]:
        """``read()``'s value and the attempts it took; raises _NotFound or _ReadFailed."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return read(), attempt
            except Exception as exc:
                if _is_not_found(exc):
                    raise _NotFound() from None
                if attempt >= self.config.read_attempts or not is_retryable(exc):
                    raise _ReadFailed(exc, attempt) from exc
            base = self.config.retry_backoff_seconds * 2 ** (attempt - 1)
            self.sleep(min(self.config.retry_backoff_max_seconds, base) * (0.5 + random.random() / 2))

    def hash_object(self, key: str) -> tuple[dict[str, Any], str, int]:
        response = self.client.get_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        body = response["Body"]
        digest, size = hashlib.sha256(), 0
        try:
            for chunk in body.iter_chunks(self.config.chunk_bytes):
                digest.update(chunk)
                size += len(chunk)
        finally:
            body.close()
        return response, digest.hexdigest(), size

    def read_manifest(self, manifest_key: str) -> bytes:
        response = self.client.get_object(Bucket=self.bucket, Key=manifest_key)
        body = response["Body"]
        try:
            if response.get("ContentLength", 0) > self.config.max_manifest_bytes:
                raise ManifestProblem(
                    f"{manifest_key} is {response['ContentLength']} bytes, too large for a "
                    "manifest; it was not read"
                )
            return body.read()
        finally:
            body.close()


def _manifest_expectation(reader: _Reader, item: ObjectToCheck) -> tuple[Expected | None, str | None]:
    if not item.manifest_key:
        return None, None
    try:
        text, _ = reader.retrying(lambda: reader.read_manifest(item.manifest_key))
        return expected_from_manifest(text, item.manifest_key, item.key), None
    except _NotFound:
        return None, f"{item.manifest_key} was deleted after it was listed"
    except ManifestProblem as exc:
        return None, str(exc)
    except _ReadFailed as exc:
        if isinstance(exc.cause, ManifestProblem):
            return None, str(exc.cause)
        return None, f"{item.manifest_key} could not be read after {exc.attempts} attempt(s): {exc}"


def check_object(
    client,
    bucket: str,
    item: ObjectToCheck,
    config: ChecksumConfig,
    sleep: Callable[[float], None] = time.sleep,
) -> CheckResult:
    """Read and hash one object, and judge it against its expected checksum. Never raises for S3 errors."""
    started = time.perf_counter()
    prepare_client(client)
    reader = _Reader(client, bucket, config, sleep)
    manifest, manifest_problem = _manifest_expectation(reader, item)
    notes = (f"manifest not used: {manifest_problem}",) if manifest_problem else ()
    common = {"key": item.key, "manifest_problem": manifest_problem}
    try:
        (response, actual, size), attempts = reader.retrying(lambda: reader.hash_object(item.key))
    except _NotFound:
        # Named by a manifest, its absence is a finding; otherwise it was simply deleted (uploads come and go).
        outcome = MISSING if item.manifest_key else VANISHED
        return CheckResult(
            **common,
            outcome=outcome,
            source=manifest.source if manifest else None,
            expected_sha256=manifest.sha256 if manifest else None,
            expected_size=manifest.size if manifest else None,
            notes=notes + ("deleted after it was listed",),
            seconds=time.perf_counter() - started,
        )
    except _ReadFailed as exc:
        return CheckResult(
            **common,
            outcome=ERROR,
            attempts=exc.attempts,
            error=str(exc),
            notes=notes,
            seconds=time.perf_counter() - started,
        )
    resolution = resolve(manifest, response, notes)
    expected = resolution.expected
    if expected is None:
        outcome = UNVERIFIABLE
    elif expected.size is not None and size != expected.size:
        outcome = SIZE_MISMATCH
    elif actual != expected.sha256:
        outcome = MISMATCH
    else:
        outcome = OK
    return CheckResult(
        **common,
        outcome=outcome,
        source=expected.source if expected else None,
        expected_sha256=expected.sha256 if expected else None,
        actual_sha256=actual,
        expected_size=expected.size if expected else None,
        actual_size=size,
        etag=response.get("ETag"),
        last_modified=response.get("LastModified"),
        attempts=attempts,
        notes=resolution.notes,
        seconds=time.perf_counter() - started,
    )


def check_objects(
    client,
    bucket: str,
    items: Iterable[ObjectToCheck],
    config: ChecksumConfig,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[CheckResult]:
    """Check ``items`` with ``config.concurrency`` threads; results come in completion order.

    At most twice ``concurrency`` objects are in flight, so a shard of a million keys never becomes a
    million futures.
    """
    prepare_client(client)
    pending: set[Future] = set()
    with ThreadPoolExecutor(max_workers=config.concurrency, thread_name_prefix="checksum") as pool:
        for item in items:
            pending.add(pool.submit(check_object, client, bucket, item, config, sleep))
            if len(pending) >= 2 * config.concurrency:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (f.result() for f in done)
