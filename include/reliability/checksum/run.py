"""The ``checksum_validation`` job's steps: plan, validate shards, summarise into an :class:`Outcome`.

The three steps share state through the results store, not XCom: the plan (possibly hundreds of
thousands of keys) is stored by :func:`plan`, each shard task reads its part and writes its verdicts, and
:func:`summarise` reads them all back. XCom carries only shard numbers and small counts, and a shard task
that dies is visible as objects planned but never checked.

Nothing here imports Airflow: ``reliability.airflow.tasks.checksum_validation`` resolves connections and
the run's interval and calls these functions.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from reliability.checksum.config import ChecksumConfig
from reliability.checksum.hashing import check_objects
from reliability.checksum.outcome import FIRST_KEYS, to_outcome
from reliability.core.outcome import Outcome

# Results are written in batches, and at least this often, so a killed task loses little work.
_BATCH_OBJECTS = 200
_BATCH_SECONDS = 30.0


class PlanMissing(RuntimeError):
    """A shard task ran for an interval that has no stored plan."""


def _now() -> datetime:
    return datetime.now(UTC)


def plan(
    results_dsn: str,
    client,
    bucket: str,
    config: ChecksumConfig,
    interval_key: str,
    *,
    full: bool = False,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict]:
    """Plan the run, check the verifier canary, and return one small descriptor per shard (the list
    ``validate_shard`` is mapped over)."""
    from reliability.checksum import canary, store
    from reliability.checksum.scan import plan_run
    from reliability.core.store import connect

    with connect(results_dsn, autocommit=True) as conn:
        planned = plan_run(conn, client, bucket, config, interval_key, full=full, now=now or _now())
        store.update_plan_stats(
            conn, interval_key, {**planned.stats, "canary": canary.verify(client, bucket, config, sleep)}
        )
        return planned.shards


def validate_shard(
    results_dsn: str,
    client,
    bucket: str,
    config: ChecksumConfig,
    interval_key: str,
    shard: int,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = _now,
) -> dict[str, Any]:
    """Read and judge the shard's objects; store every result; return counts for the task log and XCom."""
    from reliability.checksum import store
    from reliability.core.store import connect

    started = time.perf_counter()
    counts: Counter[str] = Counter()
    hashed_bytes = 0
    with connect(results_dsn, autocommit=True) as conn:
        header = store.plan_header(conn, interval_key)
        if header is None:
            raise PlanMissing(
                f"no checksum plan is stored for interval {interval_key!r}: run plan_checks first"
            )
        if header["bucket"] != bucket:
            raise PlanMissing(
                f"the plan of {interval_key!r} is for bucket {header['bucket']!r}, not {bucket!r}; "
                "check the reliability_s3 connection"
            )
        items = store.shard_objects(conn, interval_key, shard)
        batch, flushed = [], time.monotonic()
        for result in check_objects(client, bucket, items, config, sleep):
            batch.append(result)
            counts[result.outcome] += 1
            hashed_bytes += result.actual_size or 0
            if len(batch) >= _BATCH_OBJECTS or time.monotonic() - flushed > _BATCH_SECONDS:
                store.save_results(conn, interval_key, bucket, batch, clock())
                batch, flushed = [], time.monotonic()
        store.save_results(conn, interval_key, bucket, batch, clock())
    seconds = time.perf_counter() - started
    return {
        "shard": shard,
        "objects": len(items),
        "counts": dict(counts),
        "hashed_bytes": hashed_bytes,
        "seconds": round(seconds, 3),
        "bytes_per_second": round(hashed_bytes / seconds) if seconds else 0,
    }


def summarise(
    results_dsn: str, interval_key: str, *, now: datetime | None = None, input_error: str | None = None
) -> list[Outcome]:
    """The run's Outcome, from what the plan and the shards stored (``input_error``: the run's Params
    were refused, so nothing was planned)."""
    from reliability.checksum import store
    from reliability.core.store import connect

    now = now or _now()
    if input_error:
        return [to_outcome(None, {}, {}, now, interval_key=interval_key, input_error=input_error)]
    with connect(results_dsn, autocommit=True) as conn:
        header = store.plan_header(conn, interval_key)
        if header is None:
            return [to_outcome(None, {}, {}, now, interval_key=interval_key)]
        results = store.run_results(conn, interval_key, header["bucket"], first=FIRST_KEYS)
        cover = store.coverage(
            conn, header["bucket"], header["prefixes"], now - timedelta(days=header["cycle_days"])
        )
        by_prefix = store.verified_by_prefix(conn, header["bucket"], header["prefixes"])
    return [to_outcome(header, results, cover, now, by_prefix=by_prefix)]
