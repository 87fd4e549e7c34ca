"""The checksum job's tables in the results store (migration ``003_checksum.sql``).

The bucket listing is streamed with COPY into a temporary table and compared with the inventory in SQL,
so planning a run over millions of objects needs no more memory than one listing page. Every write is
keyed by the run's interval (plans, results) or by the object (inventory), and a rerun of an interval
replaces its rows instead of adding to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reliability.backups.manifest import MANIFEST_SUFFIX
from reliability.checksum.hashing import VERDICTS, CheckResult, ObjectToCheck

_PREFIX_MATCH = (
    "EXISTS (SELECT 1 FROM unnest(%(prefixes)s::text[]) AS p(prefix) WHERE starts_with({col}, p.prefix))"
)


@dataclass(frozen=True)
class Listed:
    key: str
    size: int
    etag: str
    last_modified: datetime
    is_manifest: bool = False


@dataclass(frozen=True)
class Candidate:
    key: str
    size: int
    reason: str  # new | changed | scrub | full | rerun
    manifest_key: str | None = None


# -- planning ------------------------------------------------------------------------------------------


def load_listing(conn, listed: Iterable[Listed]) -> None:
    """Stream the listing into the session's temporary table ``checksum_listing`` (dropped at commit)."""
    conn.execute("""CREATE TEMP TABLE checksum_listing (key text PRIMARY KEY, size bigint NOT NULL, etag text,
                        last_modified timestamptz, is_manifest boolean NOT NULL) ON COMMIT DROP""")
    with (
        conn.cursor() as cur,
        cur.copy("COPY checksum_listing (key, size, etag, last_modified, is_manifest) FROM STDIN") as copy,
    ):
        for item in listed:
            copy.write_row((item.key, item.size, item.etag, item.last_modified, item.is_manifest))
    conn.execute("ANALYZE checksum_listing")


def refresh_inventory(conn, bucket: str, prefixes: Sequence[str], now: datetime) -> None:
    """Listed objects are present (new ones inserted); inventoried ones no longer listed are gone."""
    args = {"bucket": bucket, "prefixes": list(prefixes), "now": now}
    conn.execute(
        """
        INSERT INTO reliability.checksum_objects AS o (bucket, key, size, etag, last_modified, present,
                                                       first_seen_at)
        SELECT %(bucket)s, l.key, l.size, l.etag, l.last_modified, true, %(now)s
        FROM checksum_listing l WHERE NOT l.is_manifest
        ON CONFLICT (bucket, key) DO UPDATE SET
            size = EXCLUDED.size, etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified,
            present = true, deleted_at = NULL
        WHERE NOT o.present OR o.etag IS DISTINCT FROM EXCLUDED.etag OR o.size IS DISTINCT FROM EXCLUDED.size
              OR o.last_modified IS DISTINCT FROM EXCLUDED.last_modified""",
        args,
    )
    conn.execute(
        f"""
        UPDATE reliability.checksum_objects o SET present = false, deleted_at = %(now)s
        WHERE o.bucket = %(bucket)s AND o.present AND {_PREFIX_MATCH.format(col="o.key")}
          AND NOT EXISTS (SELECT 1 FROM checksum_listing l WHERE l.key = o.key)""",
        args,
    )


def manifests_without_object(conn) -> list[tuple[str, str]]:
    """(object key, manifest key) for each listed manifest whose object is not listed."""
    return conn.execute(
        """
        SELECT left(m.key, length(m.key) - %(n)s) AS key, m.key FROM checksum_listing m
        WHERE m.is_manifest AND NOT EXISTS (
            SELECT 1 FROM checksum_listing d WHERE d.key = left(m.key, length(m.key) - %(n)s))
        ORDER BY 1""",
        {"n": len(MANIFEST_SUFFIX)},
    ).fetchall()


def objects_without_manifest(
    conn, manifest_prefixes: Sequence[str], listed_before: datetime, first: int = 10
) -> tuple[int, list[str]]:
    """Objects under the manifest prefixes, older than the grace period, with no manifest next to them:
    how many, and the oldest ``first`` keys."""
    rows = conn.execute(
        f"""
        SELECT l.key, count(*) OVER () FROM checksum_listing l
        WHERE NOT l.is_manifest AND l.last_modified < %(before)s AND {_PREFIX_MATCH.format(col="l.key")}
          AND NOT EXISTS (SELECT 1 FROM checksum_listing m WHERE m.key = l.key || %(suffix)s)
        ORDER BY l.last_modified, l.key LIMIT %(first)s""",
        {
            "prefixes": list(manifest_prefixes),
            "before": listed_before,
            "suffix": MANIFEST_SUFFIX,
            "first": first,
        },
    ).fetchall()
    return (rows[0][1] if rows else 0), [key for key, _ in rows]


def listing_totals(conn, bucket: str, overdue_before: datetime) -> dict[str, int]:
    """Sizes of the listed (non-manifest) objects, and of those not read since ``overdue_before``."""
    row = conn.execute(
        """
        SELECT count(*), coalesce(sum(l.size), 0),
               count(*) FILTER (WHERE o.last_checked_at < %(before)s),
               coalesce(sum(l.size) FILTER (WHERE o.last_checked_at < %(before)s), 0),
               (SELECT count(*) FROM checksum_listing WHERE is_manifest)
        FROM checksum_listing l JOIN reliability.checksum_objects o ON o.bucket = %(bucket)s AND o.key = l.key
        WHERE NOT l.is_manifest""",
        {"bucket": bucket, "before": overdue_before},
    ).fetchone()
    return {
        "objects": row[0],
        "bytes": int(row[1]),
        "overdue_objects": row[2],
        "overdue_bytes": int(row[3]),
        "manifests": row[4],
    }


_CANDIDATE_SELECT = """
    SELECT o.key, o.size,
           CASE WHEN o.last_checked_at IS NULL THEN 'new'
                WHEN o.checked_etag IS DISTINCT FROM o.etag OR o.checked_last_modified IS DISTINCT FROM o.last_modified
                     OR coalesce(m.last_modified > o.last_checked_at, false) THEN 'changed'
                ELSE 'scrub' END AS reason,
           m.key AS manifest_key
    FROM checksum_listing l
    JOIN reliability.checksum_objects o ON o.bucket = %(bucket)s AND o.key = l.key
    LEFT JOIN checksum_listing m ON m.is_manifest AND m.key = l.key || %(suffix)s
    WHERE NOT l.is_manifest"""
# An object is "changed" when the version listed is not the one last read, and also when its manifest
# was (re)written after that read: a dump uploaded before its manifest must be judged by the manifest.
_NEW_OR_CHANGED = """(o.last_checked_at IS NULL OR o.checked_etag IS DISTINCT FROM o.etag
                      OR o.checked_last_modified IS DISTINCT FROM o.last_modified
                      OR coalesce(m.last_modified > o.last_checked_at, false))"""


def iter_candidates(conn, bucket: str, kind: str) -> Iterator[Candidate]:
    """Listed objects in the order they should be read: ``new_or_changed`` (oldest upload first),
    ``scrub`` (least recently read first) or ``all``. Streams through a server-side cursor."""
    args = {"bucket": bucket, "suffix": MANIFEST_SUFFIX}
    if kind == "new_or_changed":
        sql = f"{_CANDIDATE_SELECT} AND {_NEW_OR_CHANGED} ORDER BY o.last_modified, o.key"
    elif kind == "scrub":
        sql = f"{_CANDIDATE_SELECT} AND NOT {_NEW_OR_CHANGED} ORDER BY o.last_checked_at, o.key"
    elif kind == "all":
        sql = f"{_CANDIDATE_SELECT} ORDER BY o.key"
    else:
        raise ValueError(f"unknown candidate kind {kind!r}")
    with conn.cursor(name=f"checksum_{kind}") as cur:
        cur.itersize = 5000
        cur.execute(sql, args)
        for key, size, reason, manifest_key in cur:
            yield Candidate(key, size, reason, manifest_key)


def new_or_changed_backlog(conn, bucket: str, interval_key: str) -> tuple[int, int]:
    """New or changed objects that the saved plan of ``interval_key`` does not read."""
    row = conn.execute(
        f"""
        SELECT count(*), coalesce(sum(c.size), 0) FROM ({_CANDIDATE_SELECT} AND {_NEW_OR_CHANGED}) c
        WHERE NOT EXISTS (SELECT 1 FROM reliability.checksum_plan_objects p
                          WHERE p.interval_key = %(interval_key)s AND p.key = c.key)""",
        {"bucket": bucket, "suffix": MANIFEST_SUFFIX, "interval_key": interval_key},
    ).fetchone()
    return row[0], int(row[1])


def previous_plan(conn, interval_key: str) -> list[Candidate]:
    """What an earlier attempt of this interval planned, for objects still listed."""
    rows = conn.execute(
        """
        SELECT p.key, l.size, m.key FROM reliability.checksum_plan_objects p
        JOIN checksum_listing l ON l.key = p.key AND NOT l.is_manifest
        LEFT JOIN checksum_listing m ON m.is_manifest AND m.key = p.key || %(suffix)s
        WHERE p.interval_key = %(interval_key)s ORDER BY p.key""",
        {"interval_key": interval_key, "suffix": MANIFEST_SUFFIX},
    ).fetchall()
    return [Candidate(key, size, "rerun", manifest_key) for key, size, manifest_key in rows]


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
        WHERE o.bucket = %(bucket)s AND o.present AND {_PREFIX_MATCH.format(col="o.key")}""",
        {"bucket": bucket, "prefixes": list(prefixes), "since": covered_since},
    ).fetchone()
    return {"objects": row[0], "covered_objects": row[1], "bytes": int(row[2]), "covered_bytes": int(row[3])}
