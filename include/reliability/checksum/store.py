"""The checksum job's tables in the results store (migration ``003_checksum.sql``): plans, results, summaries.

Every write is keyed by the run's interval (plans, results) or by the object (inventory), and a rerun of
an interval replaces its rows instead of adding to them. Listing and inventory: :mod:`.inventory`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reliability.checksum.hashing import VERDICTS, CheckResult, ObjectToCheck
from reliability.checksum.inventory import PREFIX_MATCH, Candidate


def save_plan(
    conn,
    *,
    interval_key: str,
    bucket: str,
    prefixes: Sequence[str],
    full_scan: bool,
    byte_budget: int,
    cycle_days: float,
    planned_at: datetime,
    shards: Sequence[Sequence[Candidate]],
) -> None:
    """Replace the plan of ``interval_key`` (its stats follow with :func:`update_plan_stats`)."""
    objects = sum(len(s) for s in shards)
    total = sum(c.size for s in shards for c in s)
    conn.execute("DELETE FROM reliability.checksum_plans WHERE interval_key = %s", (interval_key,))
    conn.execute(
        """INSERT INTO reliability.checksum_plans (interval_key, bucket, prefixes, full_scan, byte_budget,
                        cycle_days, planned_at, shard_count, objects, bytes)
                    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            interval_key,
            bucket,
            list(prefixes),
            full_scan,
            byte_budget,
            cycle_days,
            planned_at,
            len(shards),
            objects,
            total,
        ),
    )
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY reliability.checksum_plan_objects (interval_key, key, shard, size, "
            "reason, manifest_key) FROM STDIN"
        ) as copy,
    ):
        for number, shard in enumerate(shards):
            for c in shard:
                copy.write_row((interval_key, c.key, number, c.size, c.reason, c.manifest_key))
    # Results of an earlier attempt for objects this plan no longer reads (deleted since) are dropped;
    # those it reads again are replaced when their shard writes.
    conn.execute(
        """DELETE FROM reliability.checksum_results r WHERE r.interval_key = %s AND r.bucket = %s
                    AND NOT EXISTS (SELECT 1 FROM reliability.checksum_plan_objects p
                                    WHERE p.interval_key = r.interval_key AND p.key = r.key)""",
        (interval_key, bucket),
    )


def update_plan_stats(conn, interval_key: str, stats: dict[str, Any]) -> None:
    from psycopg.types.json import Jsonb

    conn.execute(
        "UPDATE reliability.checksum_plans SET stats = %s WHERE interval_key = %s",
        (Jsonb(stats), interval_key),
    )


def save_missing(
    conn, interval_key: str, bucket: str, missing: Sequence[tuple[str, str]], now: datetime
) -> None:
    """Objects a manifest names that are not stored: a verdict row each, and the inventory's latest verdict."""
    if not missing:
        return
    with conn.cursor() as cur:
        cur.executemany(
            """
            INSERT INTO reliability.checksum_results (interval_key, bucket, key, checked_at, outcome, notes)
            VALUES (%s, %s, %s, %s, 'missing', %s)
            ON CONFLICT (interval_key, bucket, key) DO UPDATE SET checked_at = EXCLUDED.checked_at,
                outcome = 'missing', notes = EXCLUDED.notes""",
            [
                (interval_key, bucket, key, now, [f"named by {manifest} but not stored"])
                for key, manifest in missing
            ],
        )
        cur.executemany(
            """
            INSERT INTO reliability.checksum_objects AS o (bucket, key, present, first_seen_at, deleted_at,
                                                           last_outcome, last_attempted_at, last_interval_key)
            VALUES (%s, %s, false, %s, %s, 'missing', %s, %s)
            ON CONFLICT (bucket, key) DO UPDATE SET present = false,
                deleted_at = coalesce(o.deleted_at, EXCLUDED.deleted_at), last_outcome = 'missing',
                last_attempted_at = EXCLUDED.last_attempted_at, last_interval_key = EXCLUDED.last_interval_key""",
            [(bucket, key, now, now, now, interval_key) for key, _ in missing],
        )


def prune_history(conn, before: datetime) -> None:
    conn.execute("DELETE FROM reliability.checksum_results WHERE checked_at < %s", (before,))
    conn.execute("DELETE FROM reliability.checksum_plans WHERE planned_at < %s", (before,))


# -- shards ----------------------------------------------------------------------------------------------


def plan_header(conn, interval_key: str) -> dict[str, Any] | None:
    cur = conn.execute(
        """SELECT interval_key, bucket, prefixes, full_scan, byte_budget, cycle_days, planned_at,
                                 shard_count, objects, bytes, stats
                          FROM reliability.checksum_plans WHERE interval_key = %s""",
        (interval_key,),
    )
    row = cur.fetchone()
    return dict(zip([d.name for d in cur.description], row)) if row else None


def shard_objects(conn, interval_key: str, shard: int) -> list[ObjectToCheck]:
    """The shard's objects, largest first, so that the long reads start early and the threads finish together."""
    rows = conn.execute(
        """SELECT key, size, manifest_key FROM reliability.checksum_plan_objects
                           WHERE interval_key = %s AND shard = %s ORDER BY size DESC, key""",
        (interval_key, shard),
    ).fetchall()
    return [ObjectToCheck(key, size, manifest_key) for key, size, manifest_key in rows]


def save_results(conn, interval_key: str, bucket: str, results: Sequence[CheckResult], now: datetime) -> None:
    """One batch of results: history rows (replacing an earlier attempt's) and the inventory, in one transaction."""
    if not results:
        return
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """
            INSERT INTO reliability.checksum_results (interval_key, bucket, key, checked_at, outcome, source,
                expected_sha256, actual_sha256, expected_size, actual_size, etag, last_modified, attempts, error,
                manifest_problem, notes, duration_ms)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (interval_key, bucket, key) DO UPDATE SET
                checked_at = EXCLUDED.checked_at, outcome = EXCLUDED.outcome, source = EXCLUDED.source,
                expected_sha256 = EXCLUDED.expected_sha256, actual_sha256 = EXCLUDED.actual_sha256,
                expected_size = EXCLUDED.expected_size, actual_size = EXCLUDED.actual_size, etag = EXCLUDED.etag,
                last_modified = EXCLUDED.last_modified, attempts = EXCLUDED.attempts, error = EXCLUDED.error,
                manifest_problem = EXCLUDED.manifest_problem, notes = EXCLUDED.notes,
                duration_ms = EXCLUDED.duration_ms""",
            [
                (
                    interval_key,
                    bucket,
                    r.key,
                    now,
                    r.outcome,
                    r.source,
                    r.expected_sha256,
                    r.actual_sha256,
                    r.expected_size,
                    r.actual_size,
                    r.etag,
                    r.last_modified,
                    r.attempts,
                    r.error,
                    r.manifest_problem,
                    list(r.notes),
                    int(r.seconds * 1000),
                )
                for r in results
            ],
        )
        read = [r for r in results if r.is_verdict and r.actual_sha256 is not None]
        # The version read is remembered as the listed (etag, last_modified) when it is the listed one;
        # if the object changed under us, its own headers make the next run see it as changed again.
        cur.executemany(
            """
            UPDATE reliability.checksum_objects o SET last_checked_at = %(now)s, checked_etag = %(etag)s,
                checked_last_modified = CASE WHEN o.etag = %(etag)s THEN o.last_modified ELSE %(lm)s END,
                last_outcome = %(outcome)s, last_source = %(source)s, last_sha256 = %(sha)s, last_error = NULL,
                last_attempted_at = %(now)s, last_interval_key = %(ik)s
            WHERE o.bucket = %(bucket)s AND o.key = %(key)s""",
            [
                {
                    "now": now,
                    "etag": r.etag,
                    "lm": r.last_modified,
                    "outcome": r.outcome,
                    "source": r.source,
                    "sha": r.actual_sha256,
                    "ik": interval_key,
                    "bucket": bucket,
                    "key": r.key,
                }
                for r in read
            ],
        )
        gone = [r for r in results if r.outcome in ("missing", "vanished")]
        cur.executemany(
            """
            UPDATE reliability.checksum_objects SET present = false, deleted_at = %(now)s, last_outcome = %(outcome)s,
                last_attempted_at = %(now)s, last_interval_key = %(ik)s
            WHERE bucket = %(bucket)s AND key = %(key)s""",
            [
                {"now": now, "outcome": r.outcome, "ik": interval_key, "bucket": bucket, "key": r.key}
                for r in gone
            ],
        )
        failed = [r for r in results if r.outcome == "error"]
        cur.executemany(
            """
            UPDATE reliability.checksum_objects SET last_error = %(error)s, last_attempted_at = %(now)s,
                last_interval_key = %(ik)s
            WHERE bucket = %(bucket)s AND key = %(key)s""",
            [
                {"now": now, "error": r.error, "ik": interval_key, "bucket": bucket, "key": r.key}
                for r in failed
            ],
        )


# -- summary -----------------------------------------------------------------------------------------------


def run_results(conn, interval_key: str, bucket: str, first: int = 10) -> dict[str, Any]:
    """Counts and bytes by outcome for one run, the first keys of each finding, and what was never checked."""
    counts = {outcome: 0 for outcome in VERDICTS + ("error", "vanished")}
    verified_bytes = hashed_bytes = 0
    for outcome, n, ok_bytes, read_bytes in conn.execute(
        """
            SELECT outcome, count(*), coalesce(sum(actual_size) FILTER (WHERE outcome = 'ok'), 0),
                   coalesce(sum(actual_size) FILTER (WHERE actual_sha256 IS NOT NULL), 0)
            FROM reliability.checksum_results WHERE interval_key = %s AND bucket = %s GROUP BY outcome""",
        (interval_key, bucket),
    ):
        counts[outcome] = n
        verified_bytes += int(ok_bytes)
        hashed_bytes += int(read_bytes)

    def first_keys(condition: str) -> list[str]:
        return [
            k
            for (k,) in conn.execute(
                f"SELECT key FROM reliability.checksum_results WHERE interval_key = %s AND bucket = %s AND {condition} "
                "ORDER BY key LIMIT %s",
                (interval_key, bucket, first),
            )
        ]

    manifest_problems = conn.execute(
        "SELECT count(*) FROM reliability.checksum_results WHERE interval_key = %s AND bucket = %s "
        "AND manifest_problem IS NOT NULL",
        (interval_key, bucket),
    ).fetchone()[0]
    unchecked = conn.execute(
        """
        SELECT count(*), coalesce(sum(p.size), 0) FROM reliability.checksum_plan_objects p
        WHERE p.interval_key = %s AND NOT EXISTS (
            SELECT 1 FROM reliability.checksum_results r
            WHERE r.interval_key = p.interval_key AND r.bucket = %s AND r.key = p.key)""",
        (interval_key, bucket),
    ).fetchone()
    return {
        "counts": counts,
        "verified_bytes": verified_bytes,
        "hashed_bytes": hashed_bytes,
        "first_mismatch": first_keys("outcome IN ('mismatch', 'size_mismatch')"),
        "first_missing": first_keys("outcome = 'missing'"),
        "first_error": first_keys("outcome = 'error'"),
        "manifest_problems": manifest_problems,
        "first_manifest_problem": first_keys("manifest_problem IS NOT NULL"),
        "unchecked_objects": unchecked[0],
        "unchecked_bytes": int(unchecked[1]),
    }


def coverage(conn, bucket: str, prefixes: Sequence[str], covered_since: datetime) -> dict[str, int]:
    """Stored objects under ``prefixes``, and how many of them were read to the end since ``covered_since``."""
    row = conn.execute(
        f"""
        SELECT count(*), count(*) FILTER (WHERE last_checked_at >= %(since)s),
               coalesce(sum(size), 0), coalesce(sum(size) FILTER (WHERE last_checked_at >= %(since)s), 0)
        FROM reliability.checksum_objects o
        WHERE o.bucket = %(bucket)s AND o.present AND {PREFIX_MATCH.format(col="o.key")}""",
        {"bucket": bucket, "prefixes": list(prefixes), "since": covered_since},
    ).fetchone()
    return {"objects": row[0], "covered_objects": row[1], "bytes": int(row[2]), "covered_bytes": int(row[3])}
