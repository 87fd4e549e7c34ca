"""Re-read stored objects and check them as streams, several at once, with bounded memory.

One GET per object: its response carries the size, the user metadata, the ETag, the encryption and (with
``ChecksumMode=ENABLED``) S3's checksum headers, so no HEAD is needed; every algorithm those sources need
is computed on the same pass over the body (:mod:`.digests`), chunk by chunk as it arrives. A multipart
object needs its part boundaries for a composite checksum or a multipart ETag: one more metadata call
(:mod:`.parts`), made after the GET's headers and before its body is read. Memory is about
``concurrency x chunk_bytes`` whatever the objects' sizes. The digests release the GIL, so threads
overlap one object's hashing with other objects' network reads.

A read that fails in a way worth retrying (throttling, 5xx, a timeout, a connection dropped mid-body) is
retried as a whole new GET, with exponential backoff and jitter, up to ``read_attempts`` times; botocore
retries the request itself first, but never a body that breaks off half-way. What still fails becomes
an ``error`` result for that object alone: it is not a verdict (the bytes' integrity is unknown, not bad),
it is stored with its reason and counted, and the other objects' verdicts are unaffected.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reliability.checksum.config import ChecksumConfig
from reliability.checksum.digests import StreamDigests
from reliability.checksum.parts import (
    HEAD,
    Parts,
    PartsUnavailable,
    exact_head_sizes,
    part_sizes,
)
from reliability.checksum.s3errors import describe_error, is_not_found, is_retryable
from reliability.checksum.sources import (
    PARTS_UNKNOWN,
    Expectation,
    Found,
    ManifestProblem,
    expected_from_manifest,
    find_expectations,
)
from reliability.checksum.verdict import (
    CONFLICT,
    MISMATCH,
    MISSING,
    OK,
    SIZE_MISMATCH,
    UNVERIFIABLE,
    VERDICTS,
    Judgement,
    algorithms_for,
    judge,
)

__all__ = ["CONFLICT", "MISMATCH", "MISSING", "OK", "SIZE_MISMATCH", "UNVERIFIABLE", "VERDICTS"]
# Not verdicts: the read failed after its retries, or the object was deleted after it was listed.
ERROR, VANISHED = "error", "vanished"
OUTCOMES = VERDICTS + (ERROR, VANISHED)

_HOOK_ID = "reliability.checksum.skip-sdk-response-validation"


@dataclass(frozen=True)
class ObjectToCheck:
    key: str
    size: int  # as listed; the read may find another size if the object changed since
    manifest_key: str | None = None
    etag: str | None = None  # as listed: when the read finds the same ETag, the listed size must hold


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
    agreeing: tuple[str, ...] = ()  # sources that match the bytes read
    disagreeing: tuple[str, ...] = ()  # sources that do not
    reason: str | None = None  # why unverifiable
    requests: int = 0  # S3 requests for this object (GETs, metadata calls), retries included
    parts_method: str | None = None  # how part boundaries were found (multipart objects)

    @property
    def is_verdict(self) -> bool:
        return self.outcome in VERDICTS


class _NotFound(Exception):
    pass


class _ReadFailed(Exception):
    def __init__(self, cause: BaseException, attempts: int):
        super().__init__(describe_error(cause))
        self.cause, self.attempts = cause, attempts


def _skip_sdk_response_validation(context: dict, **_: Any) -> None:
    # With ChecksumMode=ENABLED botocore would hash the body again to check S3's checksum, which we do
    # ourselves (and against a manifest or metadata it knows nothing about): one hash per byte is enough.
    context.get("checksum", {}).pop("response_algorithms", None)


def prepare_client(client) -> None:
    """Register the hook above on ``client`` (idempotent). The job's client is its own (one per task), so
    nothing else loses botocore's response validation."""
    client.meta.events.register("before-call.s3.GetObject", _skip_sdk_response_validation, unique_id=_HOOK_ID)


@dataclass
class _Read:
    response: dict[str, Any]
    found: Found
    digests: StreamDigests
    parts: Parts | None


class _Reader:
    """Reads with retries; one instance per object check. Counts the S3 requests it makes."""

    def __init__(self, client, bucket: str, config: ChecksumConfig, sleep: Callable[[float], None]):
        self.client, self.bucket, self.config, self.sleep = client, bucket, config, sleep
        self.requests = 0

    def retrying(self, read: Callable[[], Any]) -> tuple[Any, int]:
        """``read()``'s value and the attempts it took; raises _NotFound or _ReadFailed."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return read(), attempt
            except Exception as exc:
                if is_not_found(exc):
                    raise _NotFound() from None
                if attempt >= self.config.read_attempts or not is_retryable(exc):
                    raise _ReadFailed(exc, attempt) from exc
            base = self.config.retry_backoff_seconds * 2 ** (attempt - 1)
            self.sleep(min(self.config.retry_backoff_max_seconds, base) * (0.5 + random.random() / 2))

    def read(
        self,
        key: str,
        manifest: Expectation | None,
        only: Expectation | None = None,
        exact_sizes: tuple[int, ...] | None = None,
    ) -> _Read:
        """One GET: its headers say which sources apply, then every digest they need on one pass."""
        self.requests += 1
        response = self.client.get_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        body = response["Body"]
        try:
            found = Found([only]) if only else find_expectations(manifest, response)
            parts = self._parts(key, response, found, exact_sizes)
            whole, per_part = algorithms_for(found.expectations)
            digests = StreamDigests(whole, per_part, parts.sizes if parts else None)
            for chunk in body.iter_chunks(self.config.chunk_bytes):
                digests.update(chunk)
            digests.finish()
        finally:
            body.close()
        return _Read(response, found, digests, parts)

    def _parts(
        self, key: str, response: dict[str, Any], found: Found, exact_sizes: tuple[int, ...] | None
    ) -> Parts | None:
        per_part = [e for e in found.expectations if e.per_part]
        if not per_part:
            return None
        if exact_sizes is not None:
            return Parts(exact_sizes, HEAD, 0)
        try:
            parts = part_sizes(
                self.client,
                self.bucket,
                key,
                etag=str(response.get("ETag") or ""),
                object_size=int(response.get("ContentLength") or 0),
                count=next((e.parts for e in per_part if e.parts), None),
                listed_by_s3=any(name.startswith("Checksum") and name != "ChecksumType" for name in response),
            )
        except PartsUnavailable as exc:
            self.requests += 2
            found.skip(str(exc), PARTS_UNKNOWN)
            return None
        self.requests += parts.requests
        return parts

    def exact_sizes(self, key: str, count: int, first_size: int) -> tuple[int, ...]:
        sizes, calls = exact_head_sizes(self.client, self.bucket, key, count, first_size)
        self.requests += calls
        return tuple(sizes)

    def read_manifest(self, manifest_key: str) -> bytes:
        self.requests += 1
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


def _manifest_expectation(reader: _Reader, item: ObjectToCheck) -> tuple[Expectation | None, str | None]:
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


def _rests_on_assumed_parts(read: _Read, judgement: Judgement) -> bool:
    """A disagreement of a part-based source whose part sizes were partly assumed (see .parts)."""
    if read.parts is None or not read.parts.assumed:
        return False
    return any(e.per_part and e.label in judgement.disagreeing for e in read.found.expectations)


def check_object(
    client,
    bucket: str,
    item: ObjectToCheck,
    config: ChecksumConfig,
    sleep: Callable[[float], None] = time.sleep,
    *,
    only: Expectation | None = None,
) -> CheckResult:
    """Read one object and judge it against every source it has (``only``: against that expectation
    alone, for the verifier canary). Never raises for S3 errors."""
    started = time.perf_counter()
    prepare_client(client)
    reader = _Reader(client, bucket, config, sleep)
    manifest, manifest_problem = _manifest_expectation(reader, item)
    notes = (f"manifest not used: {manifest_problem}",) if manifest_problem else ()
    common = {"key": item.key, "manifest_problem": manifest_problem}
    try:
        read, attempts = reader.retrying(lambda: reader.read(item.key, manifest, only))
        listed_size = item.size if item.etag and read.response.get("ETag") == item.etag else None
        judgement = judge(read.found, read.digests, listed_size=listed_size, notes=notes)
        if _rests_on_assumed_parts(read, judgement):
            # Part sizes were assumed equal: ask for each, and read again on the true boundaries if they differ.
            exact, more = reader.retrying(
                lambda: reader.exact_sizes(item.key, len(read.parts.sizes), read.parts.sizes[0])
            )
            attempts += more - 1
            if exact != read.parts.sizes:
                read, more = reader.retrying(lambda: reader.read(item.key, manifest, only, exact))
                attempts += more
                judgement = judge(read.found, read.digests, listed_size=listed_size, notes=notes)
    except _NotFound:
        # Named by a manifest, its absence is a finding; otherwise it was simply deleted (uploads come and go).
        return CheckResult(
            **common,
            outcome=MISSING if item.manifest_key else VANISHED,
            source=manifest.source if manifest else None,
            expected_sha256=manifest.value.hex() if manifest else None,
            expected_size=manifest.size if manifest else None,
            notes=notes + ("deleted after it was listed",),
            requests=reader.requests,
            seconds=time.perf_counter() - started,
        )
    except _ReadFailed as exc:
        return CheckResult(
            **common,
            outcome=ERROR,
            attempts=exc.attempts,
            error=str(exc),
            notes=notes,
            requests=reader.requests,
            seconds=time.perf_counter() - started,
        )
    return CheckResult(
        **common,
        outcome=judgement.outcome,
        source=judgement.source,
        expected_sha256=judgement.expected_sha256,
        actual_sha256=read.digests.digest("sha256").hex(),
        expected_size=judgement.expected_size,
        actual_size=read.digests.size,
        etag=read.response.get("ETag"),
        last_modified=read.response.get("LastModified"),
        attempts=attempts,
        notes=judgement.notes,
        agreeing=judgement.agreeing,
        disagreeing=judgement.disagreeing,
        reason=judgement.reason,
        requests=reader.requests,
        parts_method=read.parts.method if read.parts else None,
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
