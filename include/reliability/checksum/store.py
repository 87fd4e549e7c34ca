"""The checksum job's tables in the results store (migration ``003_checksum.sql``): plans, results, summaries.

Every write is keyed by the run's interval (plans, results) or by the object (inventory), and a rerun of
an interval replaces its rows instead of adding to them. Listing and inventory: :mod:`.inventory`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row

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
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """SELECT interval_key, bucket, prefixes, full_scan, byte_budget, cycle_days, planned_at,
                      shard_count, objects, bytes, stats
                 FROM reliability.checksum_plans WHERE interval_key = %s""",
            (interval_key,),
        )
        return cur.fetchone()


def shard_objects(conn, interval_key: str, shard: int) -> list[ObjectToCheck]:
    """The shard's objects, largest first, so that the long reads start early and the threads finish together."""
    rows = conn.execute(
        """SELECT p.key, p.size, p.manifest_key, o.etag FROM reliability.checksum_plan_objects p
           JOIN reliability.checksum_plans h ON h.interval_key = p.interval_key
           LEFT JOIN reliability.checksum_objects o ON o.bucket = h.bucket AND o.key = p.key
           WHERE p.interval_key = %s AND p.shard = %s ORDER BY p.size DESC, p.key""",
        (interval_key, shard),
    ).fetchall()
    return [ObjectToCheck(key, size, manifest_key, etag) for key, size, manifest_key, etag in rows]


def save_results(conn, interval_key: str, bucket: str, results: Sequence[CheckResult], now: datetime) -> None:
    """One batch of results: history rows (replacing an earlier attempt's) and the inventory, in one transaction."""
    if not results:
        return
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """
            INSERT INTO reliability.checksum_results (interval_key, bucket, key, checked_at, outcome, source,
                expected_sha256, actual_sha256, expected_size, actual_size, etag, last_modified, attempts, error,
                manifest_problem, notes, duration_ms, agreeing, disagreeing, unverifiable_reason, requests,
                parts_method)
            VALUES (%(ik)s, %(bucket)s, %(key)s, %(now)s, %(outcome)s, %(source)s, %(expected_sha256)s,
                %(actual_sha256)s, %(expected_size)s, %(actual_size)s, %(etag)s, %(last_modified)s, %(attempts)s,
                %(error)s, %(manifest_problem)s, %(notes)s, %(ms)s, %(agreeing)s, %(disagreeing)s, %(reason)s,
                %(requests)s, %(parts_method)s)
            ON CONFLICT (interval_key, bucket, key) DO UPDATE SET
                checked_at = EXCLUDED.checked_at, outcome = EXCLUDED.outcome, source = EXCLUDED.source,
                expected_sha256 = EXCLUDED.expected_sha256, actual_sha256 = EXCLUDED.actual_sha256,
                expected_size = EXCLUDED.expected_size, actual_size = EXCLUDED.actual_size, etag = EXCLUDED.etag,
                last_modified = EXCLUDED.last_modified, attempts = EXCLUDED.attempts, error = EXCLUDED.error,
                manifest_problem = EXCLUDED.manifest_problem, notes = EXCLUDED.notes,
                duration_ms = EXCLUDED.duration_ms, agreeing = EXCLUDED.agreeing,
                disagreeing = EXCLUDED.disagreeing, unverifiable_reason = EXCLUDED.unverifiable_reason,
                requests = EXCLUDED.requests, parts_method = EXCLUDED.parts_method""",
            [
                {
                    "ik": interval_key,
                    "bucket": bucket,
                    "now": now,
                    **{
                        f: getattr(r, f)
                        for f in (
                            "key",
                            "outcome",
                            "source",
                            "expected_sha256",
                            "actual_sha256",
                            "expected_size",
                            "actual_size",
                            "etag",
                            "last_modified",
                            "attempts",
                            "error",
                            "manifest_problem",
                            "reason",
                            "requests",
                            "parts_method",
                        )
                    },
                    "notes": list(r.notes),
                    "agreeing": list(r.agreeing),
                    "disagreeing": list(r.disagreeing),
                    "ms": int(r.seconds * 1000),
                }
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
    by_source: dict[str, dict[str, int]] = {}
    reasons: dict[str, int] = {}
    requests = read_objects = 0
    for outcome, source, reason, n, calls in conn.execute(
        """
            SELECT outcome, coalesce(source, 'none'), unverifiable_reason, count(*), coalesce(sum(requests), 0)
            FROM reliability.checksum_results WHERE interval_key = %s AND bucket = %s
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
        (interval_key, bucket),
    ):
        by_source.setdefault(outcome, {})
        by_source[outcome][source] = by_source[outcome].get(source, 0) + n
        if outcome == "unverifiable":
            reasons[reason or "no_integrity_data"] = reasons.get(reason or "no_integrity_data", 0) + n
        if calls:
            requests, read_objects = requests + int(calls), read_objects + n
    return {
        "counts": counts,
        "by_source": by_source,
        "unverifiable_reasons": reasons,
        "requests": requests,
        "requests_per_object": round(requests / read_objects, 3) if read_objects else 0.0,
        "verified_bytes": verified_bytes,
        "hashed_bytes": hashed_bytes,
        "first_conflict": first_keys("outcome = 'conflict'"),
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


def verified_by_prefix(conn, bucket: str, prefixes: Sequence[str]) -> dict[str, dict[str, int]]:
    """Per prefix: stored objects with a latest verdict from a read, and how many of those are ``ok``."""
    out = {prefix: {"objects": 0, "verified": 0} for prefix in prefixes}
    for prefix, objects, verified in conn.execute(
        """
        SELECT p.prefix, count(o.key), count(o.key) FILTER (WHERE o.last_outcome = 'ok')
        FROM unnest(%(prefixes)s::text[]) AS p(prefix)
        LEFT JOIN reliability.checksum_objects o ON o.bucket = %(bucket)s AND o.present
             AND starts_with(o.key, p.prefix) AND o.last_checked_at IS NOT NULL
        GROUP BY p.prefix""",
        {"bucket": bucket, "prefixes": list(prefixes)},
    ):
        out[prefix] = {"objects": objects, "verified": verified}
    return out
