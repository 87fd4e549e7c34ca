"""The ``checksum_validation`` job: plan, validate shards, summarise into an :class:`Outcome`.

The three steps share state through the results store, not XCom: the plan (possibly hundreds of
thousands of keys) is stored by :func:`plan`, each shard task reads its part and writes its verdicts, and
:func:`summarise` reads them all back. XCom carries only shard numbers and small counts, and a shard task
that dies is visible as objects planned but never checked.

The ``*_task`` functions at the end are the DAG side: they resolve Airflow connections and the run's
interval; everything above them runs without Airflow.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from reliability.checksum.config import ChecksumConfig
from reliability.checksum.hashing import ERROR, MISMATCH, MISSING, OK, SIZE_MISMATCH, VERDICTS, check_objects
from reliability.core.outcome import Metric, Outcome

JOB = "checksum_validation"
ACTION = "checksum.validate"
FIRST_KEYS = 10  # keys named in the summary; Slack shows the first five
_SLACK_KEYS = 5
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
) -> list[dict]:
    """Plan the run and return one small descriptor per shard (the list ``validate_shard`` is mapped over)."""
    from reliability.checksum.scan import plan_run
    from reliability.core.store import connect

    with connect(results_dsn, autocommit=True) as conn:
        return plan_run(conn, client, bucket, config, interval_key, full=full, now=now or _now()).shards


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


def summarise(results_dsn: str, interval_key: str, *, now: datetime | None = None) -> list[Outcome]:
    """The run's Outcome, from what the plan and the shards stored."""
    from reliability.checksum import store
    from reliability.core.store import connect

    now = now or _now()
    with connect(results_dsn, autocommit=True) as conn:
        header = store.plan_header(conn, interval_key)
        if header is None:
            return [_not_planned(interval_key, now)]
        results = store.run_results(conn, interval_key, header["bucket"], first=FIRST_KEYS)
        cover = store.coverage(
            conn, header["bucket"], header["prefixes"], now - timedelta(days=header["cycle_days"])
        )
    return [build_outcome(header, results, cover, now)]


def _not_planned(interval_key: str, now: datetime) -> Outcome:
    return Outcome(
        job=JOB,
        subject={},
        status="failed",
        started_at=now,
        finished_at=now,
        headline="Checksum validation did not run: no plan was stored for this run",
        summary={"interval_key": interval_key, "error": "plan_checks did not complete"},
        facts=(("What to do", "Open the failed plan_checks task; its log names the step that failed"),),
        alert=True,
        action=ACTION,
    )


def build_outcome(
    header: dict[str, Any], results: dict[str, Any], cover: dict[str, int], now: datetime
) -> Outcome:
    """Status, headline, Slack facts and metrics of one run (pure: tested on examples)."""
    counts = results["counts"]
    stats = header.get("stats") or {}
    bad = counts[MISMATCH] + counts[SIZE_MISMATCH]
    checked = sum(counts[v] for v in VERDICTS if v != MISSING)
    errors, unchecked = counts[ERROR], results["unchecked_objects"]
    orphans = stats.get("objects_without_manifest", 0)
    ratio = cover["covered_objects"] / cover["objects"] if cover["objects"] else 1.0

    if bad or counts[MISSING] or unchecked:
        status = "failed"
    elif errors or results["manifest_problems"] or orphans:
        status = "warning"
    else:
        status = "success"

    findings = [
        f"{n:,} {label}"
        for n, label in (
            (counts[MISMATCH], "mismatched"),
            (counts[SIZE_MISMATCH], "with the wrong size"),
            (counts[MISSING], "missing"),
            (errors, "unreadable"),
            (unchecked, "not checked"),
        )
        if n
    ]
    if findings:
        headline = f"Checksums: {', '.join(findings)} ({checked:,} objects read)"
    else:
        headline = (
            f"Checksums: {checked:,} objects read, {counts[OK]:,} verified "
            f"({human_bytes(results['verified_bytes'])})"
        )

    facts: list[tuple[str, str]] = [
        ("Verdicts", " · ".join(f"{counts[v]:,} {v.replace('_', ' ')}" for v in VERDICTS)),
        (
            "Read",
            (
                f"{checked:,} objects, {human_bytes(results['hashed_bytes'])} "
                f"({human_bytes(results['verified_bytes'])} verified)"
            ),
        ),
        (
            "Scrub coverage",
            f"{ratio:.1%} of {cover['objects']:,} objects read within {header['cycle_days']:g} days",
        ),
    ]
    if bad:
        facts.append(("Mismatched keys", slack_keys(results["first_mismatch"], bad)))
    if counts[MISSING]:
        facts.append(("Missing keys", slack_keys(results["first_missing"], counts[MISSING])))
    if errors:
        facts.append(("Unreadable keys (after retries)", slack_keys(results["first_error"], errors)))
    if results["manifest_problems"]:
        facts.append(
            (
                "Manifest not usable for",
                slack_keys(results["first_manifest_problem"], results["manifest_problems"]),
            )
        )
    if orphans:
        facts.append(
            (
                "Backups without a manifest",
                slack_keys(stats.get("first_objects_without_manifest", []), orphans),
            )
        )
    if unchecked:
        facts.append(
            ("Not checked", f"{unchecked:,} planned objects have no result: a validate_shard task failed")
        )

    metrics = [
        Metric(
            "checksum_objects",
            float(counts[v]),
            {"result": v},
            "Objects by verdict in the last checksum validation run",
        )
        for v in VERDICTS
    ]
    metrics += [
        Metric(
            "checksum_verified_bytes",
            float(results["verified_bytes"]),
            documentation="Bytes re-read and found equal to their expected SHA-256 in the last run",
        ),
        Metric(
            "checksum_scrub_coverage_ratio",
            ratio,
            documentation="Share of stored objects re-hashed within the scrub cycle",
        ),
        Metric(
            "checksum_read_errors",
            float(errors),
            documentation="Objects that could not be read after retries in the last run (integrity unknown)",
        ),
    ]
    summary = {
        "bucket": header["bucket"],
        "prefixes": list(header["prefixes"]),
        "full": header["full_scan"],
        "interval_key": header["interval_key"],
        "counts": counts,
        "verified_bytes": results["verified_bytes"],
        "hashed_bytes": results["hashed_bytes"],
        "unchecked_objects": unchecked,
        "manifest_problems": results["manifest_problems"],
        "coverage": {**cover, "ratio": round(ratio, 6)},
        "first_mismatch": results["first_mismatch"],
        "first_missing": results["first_missing"],
        "first_error": results["first_error"],
        "first_manifest_problem": results["first_manifest_problem"],
        "plan": stats,
    }
    return Outcome(
        job=JOB,
        subject={},
        status=status,
        started_at=header["planned_at"],
        finished_at=now,
        headline=headline,
        summary=summary,
        facts=tuple(facts),
        metrics=tuple(metrics),
        alert=status != "success",
        action=ACTION,
        log_fields={"bucket": header["bucket"]},
    )


def slack_keys(keys: list[str], total: int) -> str:
    """The first keys as inline code, escaped for Slack mrkdwn, and how many more there are."""
    shown = keys[:_SLACK_KEYS]
    text = ", ".join("`" + _mrkdwn(k[:120]) + "`" for k in shown)
    if total > len(shown):
        text += f" and {total - len(shown):,} more"
    return text


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", "'")


def human_bytes(n: float) -> str:
    if abs(n) < 1024:
        return f"{n:,.0f} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if abs(value) < 1024:
            return f"{value:,.1f} {unit}"
    return f"{value / 1024:,.1f} TiB"
