"""The bucket listing against the object inventory (``reliability.checksum_objects``): what a plan may read.

The bucket listing is streamed with COPY into a temporary table and compared with the inventory in SQL,
so planning a run over millions of objects needs no more memory than one listing page. Plans, results and
the run's summary are in :mod:`reliability.checksum.store`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from reliability.backups.manifest import MANIFEST_SUFFIX

PREFIX_MATCH = (
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
        WHERE o.bucket = %(bucket)s AND o.present AND {PREFIX_MATCH.format(col="o.key")}
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
        WHERE NOT l.is_manifest AND l.last_modified < %(before)s AND {PREFIX_MATCH.format(col="l.key")}
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
