"""The watchdog's tables in the results store (migration ``006_build_size.sql``).

- ``SizeCache``: sizes by content hash, with an in-memory front so one run never asks twice.
- ``save_build``: a measured build and its bundles, replacing any earlier measurement of that build,
  except that a local folder never replaces a build recorded from S3 (``012_build_size_origin.sql``).
- ``load_baseline``: the last N builds CI uploaded of a branch before a given build, as a median baseline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from reliability.buildsize.compare import Baseline, Bundle, Comparison, median_baseline
from reliability.buildsize.errors import BuildSizeError
from reliability.buildsize.measure import SETTINGS
from reliability.buildsize.sizes import Sizes


class SizeCache:
    """Sizes by SHA-256 of the content: in memory, and in ``reliability.build_size_cache`` given ``conn``.

    ``conn`` should be in autocommit mode: a lookup must not leave a transaction open while the
    (long) compression runs.
    """

    def __init__(self, conn=None, settings: str = SETTINGS):
        self.conn = conn
        self.settings = settings
        self.memory: dict[bytes, Sizes] = {}

    def get_many(self, hashes: Iterable[bytes]) -> dict[bytes, Sizes]:
        wanted = set(hashes)
        found = {h: self.memory[h] for h in wanted if h in self.memory}
        missing = [h for h in wanted if h not in found]
        if missing and self.conn is not None:
            rows = self.conn.execute(
                """SELECT sha256, raw_bytes, gzip_bytes, brotli_bytes FROM reliability.build_size_cache
                   WHERE settings = %s AND sha256 = ANY(%s)""",
                (self.settings, missing),
            ).fetchall()
            for sha, raw, gz, br in rows:
                found[bytes(sha)] = self.memory[bytes(sha)] = Sizes(raw, gz, br)
            if rows:
                self.conn.execute(
                    """UPDATE reliability.build_size_cache SET last_used = current_date
                       WHERE settings = %s AND sha256 = ANY(%s) AND last_used < current_date""",
                    (self.settings, [bytes(r[0]) for r in rows]),
                )
        return found

    def put_many(self, sizes: dict[bytes, Sizes]) -> None:
        self.memory.update(sizes)
        if sizes and self.conn is not None:
            with self.conn.cursor() as cur:
                cur.executemany(
                    """INSERT INTO reliability.build_size_cache
                           (settings, sha256, raw_bytes, gzip_bytes, brotli_bytes)
                       VALUES (%s, %s, %s, %s, %s) ON CONFLICT (settings, sha256) DO NOTHING""",
                    [(self.settings, sha, s.raw, s.gzip, s.brotli) for sha, s in sizes.items()],
                )

    def prune(self, unused_days: int = 90) -> int:
        """Forget sizes no build has used for ``unused_days``; return how many."""
        if self.conn is None:
            return 0
        return self.conn.execute(
            "DELETE FROM reliability.build_size_cache WHERE last_used < current_date - %s::int",
            (unused_days,),
        ).rowcount


@dataclass(frozen=True)
class BuildRecord:
    app: str
    build_id: str
    branch: str | None
    commit: str | None
    built_at: datetime
    measured_at: datetime
    interval_key: str
    source: str
    local: bool = False  # a folder on the worker, not a build CI uploaded to S3

    @property
    def origin(self) -> str:
        return "local" if self.local else "s3"


def refuse_replacing_s3(conn, app: str, build_id: str) -> None:
    """Raise when ``build_id`` of ``app`` is recorded from S3, which a local folder must never replace."""
    row = conn.execute(
        "SELECT origin FROM reliability.build_size_builds WHERE app = %s AND build_id = %s FOR UPDATE",
        (app, build_id),
    ).fetchone()
    if row and row[0] == "s3":
        raise BuildSizeError(
            f"build {build_id} of {app} is recorded from S3; a local folder cannot replace it "
            "(give the folder a name that is not a build id of the app)"
        )


def save_build(conn, record: BuildRecord, bundles: Sequence[Bundle], comparison: Comparison) -> None:
    """Store the build and one row per bundle (removed bundles too), replacing an earlier measurement."""
    total = comparison.total.sizes
    verdicts = {row.bundle: row.verdict for row in comparison.rows}
    with conn.transaction():
        if record.local:
            refuse_replacing_s3(conn, record.app, record.build_id)
        conn.execute(
            "DELETE FROM reliability.build_size_builds WHERE app = %s AND build_id = %s",
            (record.app, record.build_id),
        )
        conn.execute(
            """INSERT INTO reliability.build_size_builds
                   (app, build_id, branch, commit_sha, built_at, measured_at, interval_key, source, files,
                    raw_bytes, gzip_bytes, brotli_bytes, verdict, baseline_branch, baseline_build_ids, origin)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                record.app,
                record.build_id,
                record.branch,
                record.commit,
                record.built_at,
                record.measured_at,
                record.interval_key,
                record.source,
                comparison.total.files,
                total.raw,
                total.gzip,
                total.brotli,
                comparison.verdict,
                comparison.baseline.branch,
                list(comparison.baseline.build_ids),
                record.origin,
            ),
        )
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY reliability.build_size_bundles (app, build_id, bundle, files, raw_bytes, gzip_bytes, "
                "brotli_bytes, verdict) FROM STDIN"
            ) as copy,
        ):
            for b in bundles:
                copy.write_row(
                    (
                        record.app,
                        record.build_id,
                        b.name,
                        b.files,
                        b.sizes.raw,
                        b.sizes.gzip,
                        b.sizes.brotli,
                        verdicts[b.name],
                    )
                )
            for row in comparison.rows:
                if row.verdict == "removed":
                    copy.write_row((record.app, record.build_id, row.bundle, 0, None, None, None, "removed"))


def load_baseline(conn, app: str, branch: str, builds: int, *, before: datetime, exclude: str) -> Baseline:
    """The median baseline of the last ``builds`` S3 builds of ``branch`` built before ``before``."""
    ids = [
        r[0]
        for r in conn.execute(
            """SELECT build_id FROM reliability.build_size_builds
           WHERE app = %s AND branch = %s AND built_at < %s AND build_id <> %s AND origin = 's3'
           ORDER BY built_at DESC, build_id DESC LIMIT %s""",
            (app, branch, before, exclude, builds),
        )
    ]
    if not ids:
        return Baseline(branch)
    sizes: dict[str, dict[str, Sizes]] = {i: {} for i in ids}
    for build_id, bundle, raw, gz, br in conn.execute(
        """SELECT build_id, bundle, raw_bytes, gzip_bytes, brotli_bytes
               FROM reliability.build_size_bundles
               WHERE app = %s AND build_id = ANY(%s) AND verdict <> 'removed'""",
        (app, ids),
    ):
        sizes[build_id][bundle] = Sizes(raw, gz, br)
    return median_baseline(branch, [(i, sizes[i]) for i in ids])


def build_history(conn, app: str, limit: int = 30) -> list[dict]:
    """The newest measured builds of ``app`` with their totals and verdicts, newest first."""
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT build_id, branch, commit_sha, built_at, files, raw_bytes, gzip_bytes, brotli_bytes,
                      verdict, baseline_build_ids, origin FROM reliability.build_size_builds
               WHERE app = %s ORDER BY built_at DESC, build_id DESC LIMIT %s""",
            (app, limit),
        ).fetchall()
