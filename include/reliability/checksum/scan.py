"""What one run reads: listing, new/changed detection, the rolling scrub within a byte budget, and shards.

Order of work within the run's byte budget:

1. objects an earlier attempt of the same interval planned (a rerun re-reads them and replaces their
   verdicts, so it is idempotent instead of quietly checking something else);
2. new and changed objects, oldest upload first: an object is judged on the first run that sees it;
3. the rolling scrub, least recently read first: at least ``total bytes / cycle_days`` per run, and
   more when objects are already overdue (not read for a whole cycle), so that every object is re-read
   at least once per cycle as long as the budget allows. Coverage is reported either way.

The budget is a hard cap, filled first-fit: an object that does not fit is passed over for smaller ones
behind it. The one exception keeps progress possible: an object larger than the whole budget is read
alone when it is first in line. ``full`` ignores budget and schedule and reads every object.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reliability.checksum.config import ChecksumConfig
from reliability.checksum.inventory import Candidate, Listed
from reliability.checksum.sources import is_manifest

# First-fit stops looking for smaller objects after passing over this many in a row.
MAX_CONSECUTIVE_SKIPS = 10_000


def list_objects(client, bucket: str, prefixes: Sequence[str], config: ChecksumConfig) -> Iterator[Listed]:
    """Every object under ``prefixes``, one ListObjectsV2 page (1,000 keys) in memory at a time."""
    paginator = client.get_paginator("list_objects_v2")
    for prefix in prefixes:
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", ()):
                key = item["Key"]
                if key == config.canary_key:
                    continue  # checked on its own terms (reliability.checksum.canary)
                yield Listed(
                    key=key,
                    size=int(item["Size"]),
                    etag=item.get("ETag", ""),
                    last_modified=item["LastModified"],
                    is_manifest=is_manifest(key) and config.is_manifest_prefixed(key),
                )


def scrub_quota(total_bytes: int, overdue_bytes: int, cycle_days: float) -> int:
    """Bytes the scrub should read this run to keep to the cycle (before the budget caps it)."""
    return max(overdue_bytes, math.ceil(total_bytes / cycle_days))


@dataclass
class Selection:
    """Fills a byte budget in order, first-fit; see the module docstring."""

    budget: int | None  # None: no limit (full run)
    chosen: list[Candidate] = field(default_factory=list)
    used: int = 0

    def take(self, candidates: Iterable[Candidate], quota: int | None = None) -> int:
        """Take from ``candidates`` until ``quota`` bytes (or the budget) are used; return the bytes taken."""
        taken = skips = 0
        for candidate in candidates:
            if quota is not None and taken >= quota:
                break
            if self.budget is None or self.used + candidate.size <= self.budget or not self.chosen:
                self.chosen.append(candidate)
                self.used += candidate.size
                taken += candidate.size
                skips = 0
                continue
            skips += 1
            if skips >= MAX_CONSECUTIVE_SKIPS:
                break
        return taken

    @property
    def remaining(self) -> int | None:
        return None if self.budget is None else max(0, self.budget - self.used)


def assign_shards(
    candidates: Sequence[Candidate], shard_count: int, min_shard_bytes: int
) -> list[list[Candidate]]:
    """Split into at most ``shard_count`` shards of similar byte totals (largest first onto the lightest shard).

    Fewer shards when there is little to do: none smaller than ``min_shard_bytes`` unless there is only one.
    """
    if not candidates:
        return []
    total = sum(c.size for c in candidates)
    count = max(1, min(shard_count, len(candidates), -(-total // min_shard_bytes)))
    shards: list[list[Candidate]] = [[] for _ in range(count)]
    # Lightest shard by bytes, then by objects: empty objects spread out too, and no shard stays empty.
    heap = [(0, 0, i) for i in range(count)]
    for candidate in sorted(candidates, key=lambda c: (-c.size, c.key)):
        load, objects, index = heapq.heappop(heap)
        shards[index].append(candidate)
        heapq.heappush(heap, (load + candidate.size, objects + 1, index))
    return shards


@dataclass(frozen=True)
class PlanResult:
    interval_key: str
    shards: list[dict]  # one descriptor per validate_shard task (small: goes through XCom)
    stats: dict


def plan_run(
    conn, client, bucket: str, config: ChecksumConfig, interval_key: str, *, full: bool, now: datetime
) -> PlanResult:
    """List, refresh the inventory, record missing objects and plan this run's reads (one transaction)."""
    from reliability.checksum import inventory, store

    with conn.transaction():
        inventory.load_listing(conn, list_objects(client, bucket, config.prefixes, config))
        inventory.refresh_inventory(conn, bucket, config.prefixes, now)
        missing = inventory.manifests_without_object(conn)
        orphan_count, first_orphans = inventory.objects_without_manifest(
            conn, config.manifest_prefixes, now - timedelta(hours=config.manifest_grace_hours)
        )
        totals = inventory.listing_totals(conn, bucket, now - timedelta(days=config.cycle_days))

        selection = Selection(budget=None if full else config.byte_budget)
        rerun = inventory.previous_plan(conn, interval_key)
        already = {c.key for c in rerun}
        selection.chosen.extend(rerun)
        selection.used = sum(c.size for c in rerun)
        quota = 0
        if full:
            with closing(inventory.iter_candidates(conn, bucket, "all")) as candidates:
                selection.take(_reason(c, "full") for c in candidates if c.key not in already)
        else:
            with closing(inventory.iter_candidates(conn, bucket, "new_or_changed")) as candidates:
                selection.take(c for c in candidates if c.key not in already)
            quota = scrub_quota(totals["bytes"], totals["overdue_bytes"], config.cycle_days)
            # What an earlier attempt of this interval planned already counts toward the scrub's share.
            scrub_left = quota - sum(c.size for c in rerun)
            if selection.remaining and scrub_left > 0:
                with closing(inventory.iter_candidates(conn, bucket, "scrub")) as candidates:
                    selection.take((c for c in candidates if c.key not in already), quota=scrub_left)
        shards = assign_shards(selection.chosen, config.shard_count, config.min_shard_bytes)
        by_reason: dict[str, dict[str, int]] = {}
        for c in selection.chosen:
            entry = by_reason.setdefault(c.reason, {"objects": 0, "bytes": 0})
            entry["objects"] += 1
            entry["bytes"] += c.size
        stats = {
            "listed_objects": totals["objects"],
            "listed_bytes": totals["bytes"],
            "manifests": totals["manifests"],
            "overdue_objects_before": totals["overdue_objects"],
            "overdue_bytes_before": totals["overdue_bytes"],
            "planned": by_reason,
            "scrub_quota_bytes": quota,
            "missing": len(missing),
            "objects_without_manifest": orphan_count,
            "first_objects_without_manifest": first_orphans,
            "verified_ratio_floors": dict(config.verified_ratio_floors),
            "narrowed": config.narrowed,
        }
        store.save_plan(
            conn,
            interval_key=interval_key,
            bucket=bucket,
            prefixes=config.prefixes,
            full_scan=full,
            byte_budget=config.byte_budget,
            cycle_days=config.cycle_days,
            planned_at=now,
            shards=shards,
        )
        store.save_missing(conn, interval_key, bucket, missing, now)
        # New or changed objects the budget left for later runs.
        backlog_objects, backlog_bytes = inventory.new_or_changed_backlog(conn, bucket, interval_key)
        stats.update(backlog_objects=backlog_objects, backlog_bytes=backlog_bytes)
        store.update_plan_stats(conn, interval_key, stats)
        store.prune_history(conn, now - timedelta(days=config.history_days))
    descriptors = [
        {"interval_key": interval_key, "shard": i, "objects": len(s), "bytes": sum(c.size for c in s)}
        for i, s in enumerate(shards)
    ]
    return PlanResult(interval_key, descriptors, stats)


def _reason(candidate: Candidate, reason: str) -> Candidate:
    return Candidate(candidate.key, candidate.size, reason, candidate.manifest_key)
