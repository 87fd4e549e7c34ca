"""The whole job on real components: moto S3 (through the fault proxy), PostgreSQL results store."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from reliability.backups.manifest import manifest_key
from reliability.checksum import run
from reliability.checksum.config import load_config
from reliability.core.store import connect
from stack.demo_uploads import seed_demo_uploads
from tests.checksum.support import make_manifest, put_dump, sha256_hex

T0 = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
MARKER = b"CONTENT-THAT-MUST-NEVER-LEAVE-STORAGE"


def run_once(dsn, client, bucket, config, interval_key, now, *, full=False, shards=None, between=None):
    """plan -> validate_shard for each shard (or the given ones) -> summarise, as the DAG does."""
    planned = run.plan(dsn, client, bucket, config, interval_key, full=full, now=now)
    if between:
        between()
    for descriptor in planned:
        if shards is None or descriptor["shard"] in shards:
            run.validate_shard(
                dsn,
                client,
                bucket,
                config,
                interval_key,
                descriptor["shard"],
                sleep=lambda _: None,
                clock=lambda: now + timedelta(minutes=5),
            )
    [outcome] = run.summarise(dsn, interval_key, now=now + timedelta(minutes=10))
    return planned, outcome


def query(dsn, sql, *args):
    with connect(dsn) as conn:
        return conn.execute(sql, args).fetchall()


def metric(outcome, name, **labels):
    """The sum of the series of ``name`` whose labels include ``labels``."""
    values = [m.value for m in outcome.metrics if m.name == name and labels.items() <= m.labels.items()]
    assert values, f"no {name} {labels}"
    return sum(values)


def test_one_run_reports_every_fault_and_keeps_every_other_verdict(
    results_dsn, s3_client, bare_client, s3_bucket, proxied_client, fault_proxy, config
):
    good = os.urandom(40_000)
    put_dump(s3_client, s3_bucket, "backups/db/good.dump", good)
    put_dump(s3_client, s3_bucket, "backups/db/corrupt.dump", good)
    fault_proxy.flip("backups/db/corrupt.dump", at=100)  # a byte rotted at rest
    put_dump(s3_client, s3_bucket, "backups/db/truncated.dump", good)
    s3_client.put_object(Bucket=s3_bucket, Key="backups/db/truncated.dump", Body=good[:-1])
    # A manifest whose dump is not there, and a dump whose manifest is unreadable.
    s3_client.put_object(
        Bucket=s3_bucket,
        Key=manifest_key("backups/db/lost.dump"),
        Body=make_manifest("backups/db/lost.dump", good).to_json(),
    )
    s3_client.put_object(Bucket=s3_bucket, Key="backups/db/bad-manifest.dump", Body=good)
    s3_client.put_object(Bucket=s3_bucket, Key=manifest_key("backups/db/bad-manifest.dump"), Body=b"not json")
    s3_client.put_object(Bucket=s3_bucket, Key="backups/db/no-manifest.dump", Body=good)
    put_dump(s3_client, s3_bucket, "backups/db/deleted-mid-run.dump", good)
    uploads = {
        "uploads/tenant-001/site-1/ok s3 ✓.bin": {"Body": good, "ChecksumAlgorithm": "SHA256"},
        "uploads/tenant-001/site-1/100% meta.csv": {"Body": good, "Metadata": {"sha256": sha256_hex(good)}},
        "uploads/tenant-001/site-1/empty.txt": {"Body": b"", "Metadata": {"sha256": sha256_hex(b"")}},
        "uploads/tenant-002/site-2/rotten.bin": {"Body": MARKER + b"!", "ChecksumAlgorithm": "SHA256"},
        "uploads/tenant-002/site-2/throttled.bin": {"Body": good, "Metadata": {"sha256": sha256_hex(good)}},
        "uploads/tenant-002/site-2/deleted-mid-run.bin": {"Body": good},
    }
    for key, kwargs in uploads.items():
        s3_client.put_object(Bucket=s3_bucket, Key=key, **kwargs)
    # No checksum and an SSE-KMS ETag (not an MD5): nothing to verify it with.
    bare_client.put_object(
        Bucket=s3_bucket, Key="uploads/tenant-001/site-1/plain.txt", Body=good, ServerSideEncryption="aws:kms"
    )
    fault_proxy.flip("uploads/tenant-002/site-2/rotten.bin", at=len(MARKER))
    fault_proxy.fail("uploads/tenant-002/site-2/throttled.bin")

    def delete_after_listing():
        s3_client.delete_object(Bucket=s3_bucket, Key="backups/db/deleted-mid-run.dump")
        s3_client.delete_object(Bucket=s3_bucket, Key="uploads/tenant-002/site-2/deleted-mid-run.bin")

    settings = replace(config, manifest_grace_hours=0)
    planned, outcome = run_once(
        results_dsn,
        proxied_client,
        s3_bucket,
        settings,
        "run-1",
        datetime.now(UTC),
        between=delete_after_listing,
    )

    assert len(planned) == 3 and sum(d["objects"] for d in planned) == 13
    counts = outcome.summary["counts"]
    assert counts == {
        "ok": 6,
        "mismatch": 2,
        "size_mismatch": 1,
        "missing": 2,
        "unverifiable": 1,
        "conflict": 0,
        "error": 1,
        "vanished": 1,
    }
    assert outcome.status == "failed" and outcome.alert
    assert outcome.summary["first_mismatch"] == [
        "backups/db/corrupt.dump",
        "backups/db/truncated.dump",
        "uploads/tenant-002/site-2/rotten.bin",
    ]
    assert outcome.summary["first_missing"] == ["backups/db/deleted-mid-run.dump", "backups/db/lost.dump"]
    assert outcome.summary["first_error"] == ["uploads/tenant-002/site-2/throttled.bin"]
    assert outcome.summary["first_manifest_problem"] == ["backups/db/bad-manifest.dump"]
    assert outcome.summary["plan"]["first_objects_without_manifest"] == ["backups/db/no-manifest.dump"]
    assert metric(outcome, "checksum_objects", result="mismatch") == 2
    assert metric(outcome, "checksum_objects", result="size_mismatch") == 1
    assert metric(outcome, "checksum_objects", result="missing") == 2
    assert metric(outcome, "checksum_objects", result="unverifiable") == 1
    assert metric(outcome, "checksum_objects", result="unverifiable", source="none") == 1
    assert metric(outcome, "checksum_objects", result="mismatch", source="manifest") == 1
    assert metric(outcome, "checksum_objects", result="mismatch", source="s3_sha256") == 1
    assert outcome.summary["unverifiable_reasons"] == {"etag_sse_kms": 1}
    assert metric(outcome, "checksum_read_errors") == 1
    assert metric(outcome, "checksum_verified_bytes") == 5 * 40_000
    facts = dict(outcome.facts)
    assert "`backups/db/lost.dump`" in facts["Missing keys"]
    assert "`uploads/tenant-002/site-2/throttled.bin`" in facts["Unreadable keys (after retries)"]
    assert MARKER.decode() not in json.dumps(outcome.to_dict())

    rows = dict(query(results_dsn, "SELECT key, last_outcome FROM reliability.checksum_objects"))
    assert rows["backups/db/corrupt.dump"] == "mismatch" and rows["backups/db/lost.dump"] == "missing"
    assert rows["uploads/tenant-001/site-1/ok s3 ✓.bin"] == "ok"
    assert rows["uploads/tenant-002/site-2/throttled.bin"] is None  # never read: stays due for the next run
    assert not any(k.endswith(".manifest.json") for k in rows)
    [(error,)] = query(
        results_dsn,
        "SELECT error FROM reliability.checksum_results WHERE key = %s",
        "uploads/tenant-002/site-2/throttled.bin",
    )
    assert error.startswith("SlowDown (HTTP 503)")


def _put(s3, bucket, key, size=1000, **extra):
    data = os.urandom(size)
    s3.put_object(Bucket=bucket, Key=key, Body=data, Metadata={"sha256": sha256_hex(data)}, **extra)


def _reasons(dsn, interval_key):
    return dict(
        query(
            dsn,
            "SELECT reason, count(*) FROM reliability.checksum_plan_objects WHERE interval_key = %s "
            "GROUP BY reason",
            interval_key,
        )
    )


def test_later_runs_read_new_and_changed_objects_and_the_scrub_share(
    results_dsn, s3_client, s3_bucket, config
):
    for i in range(14):
        _put(s3_client, s3_bucket, f"uploads/t/{i:02d}")
    run_once(results_dsn, s3_client, s3_bucket, config, "day-0", T0)
    assert _reasons(results_dsn, "day-0") == {"new": 14}

    _put(s3_client, s3_bucket, "uploads/t/03")  # overwritten: new ETag
    _put(s3_client, s3_bucket, "uploads/t/new")
    _, outcome = run_once(results_dsn, s3_client, s3_bucket, config, "day-1", T0 + timedelta(days=1))
    # The scrub reads at least 15,000 bytes / 7 days = 2,143 bytes: three objects of 1,000.
    assert _reasons(results_dsn, "day-1") == {"new": 1, "changed": 1, "scrub": 3}
    assert outcome.status == "success" and outcome.summary["counts"]["ok"] == 5


def test_rolling_scrub_rereads_every_object_within_the_cycle(results_dsn, s3_client, s3_bucket, config):
    settings = replace(config, cycle_days=4)
    sizes = [500 + 997 * i % 5000 for i in range(24)]
    for i, size in enumerate(sizes):
        _put(s3_client, s3_bucket, f"uploads/t/{i:02d}", size=size)
    ratios = []
    for day in range(10):
        _, outcome = run_once(
            results_dsn, s3_client, s3_bucket, settings, f"day-{day}", T0 + timedelta(days=day)
        )
        ratios.append(metric(outcome, "checksum_scrub_coverage_ratio"))
        assert outcome.status == "success"
    history: dict[str, list[datetime]] = {}
    for key, checked_at in query(
        results_dsn, "SELECT key, checked_at FROM reliability.checksum_results ORDER BY 2"
    ):
        history.setdefault(key, []).append(checked_at)
    assert len(history) == 24
    for key, times in history.items():
        gaps = [b - a for a, b in pairwise(times)] + [T0 + timedelta(days=9) - times[-1]]
        assert max(gaps) <= timedelta(days=4), (key, gaps)
    assert ratios == [1.0] * 10
    # ...and it does so without re-reading everything every day.
    daily = query(results_dsn, "SELECT interval_key, count(*) FROM reliability.checksum_results GROUP BY 1")
    assert max(n for k, n in daily if k != "day-0") < 24


def test_byte_budget_caps_each_run_and_new_objects_wait_their_turn(results_dsn, s3_client, s3_bucket, config):
    settings = replace(config, byte_budget=3500)
    for i in range(10):
        _put(s3_client, s3_bucket, f"uploads/t/{i:02d}")
    planned, outcome = run_once(results_dsn, s3_client, s3_bucket, settings, "day-0", T0)
    assert sum(d["bytes"] for d in planned) == 3000
    assert (outcome.summary["plan"]["backlog_objects"], outcome.summary["plan"]["backlog_bytes"]) == (7, 7000)
    planned, outcome = run_once(results_dsn, s3_client, s3_bucket, settings, "day-1", T0 + timedelta(days=1))
    assert _reasons(results_dsn, "day-1") == {"new": 3}
    assert outcome.summary["plan"]["backlog_objects"] == 4
    assert outcome.summary["coverage"]["covered_objects"] == 6


def test_object_larger_than_the_budget_is_read_alone_when_first_in_line(
    results_dsn, s3_client, s3_bucket, config
):
    _put(s3_client, s3_bucket, "uploads/t/huge", size=20_000)
    _put(s3_client, s3_bucket, "uploads/t/small")
    settings = replace(config, byte_budget=5000)
    run_once(results_dsn, s3_client, s3_bucket, settings, "day-0", T0)
    run_once(results_dsn, s3_client, s3_bucket, settings, "day-1", T0 + timedelta(days=1))
    checked = query(results_dsn, "SELECT interval_key, key FROM reliability.checksum_results ORDER BY 1, 2")
    assert checked == [("day-0", "uploads/t/huge"), ("day-1", "uploads/t/small")]


def test_full_run_reads_everything_regardless_of_budget(results_dsn, s3_client, s3_bucket, config):
    for i in range(6):
        _put(s3_client, s3_bucket, f"uploads/t/{i}")
    run_once(results_dsn, s3_client, s3_bucket, config, "day-0", T0)
    _, outcome = run_once(
        results_dsn,
        s3_client,
        s3_bucket,
        replace(config, byte_budget=1),
        "manual",
        T0 + timedelta(hours=1),
        full=True,
    )
    assert _reasons(results_dsn, "manual") == {"full": 6}
    assert outcome.summary["counts"]["ok"] == 6


def test_rerun_of_an_interval_rereads_the_same_objects_and_replaces_its_verdicts(
    results_dsn, s3_client, s3_bucket, config
):
    for i in range(8):
        _put(s3_client, s3_bucket, f"uploads/t/{i}")
    run_once(results_dsn, s3_client, s3_bucket, config, "day-0", T0)
    _, first = run_once(results_dsn, s3_client, s3_bucket, config, "day-1", T0 + timedelta(days=1))
    keys = query(
        results_dsn,
        "SELECT key FROM reliability.checksum_plan_objects WHERE interval_key = 'day-1' ORDER BY 1",
    )
    _, again = run_once(results_dsn, s3_client, s3_bucket, config, "day-1", T0 + timedelta(days=1, hours=2))
    assert (
        query(
            results_dsn,
            "SELECT key FROM reliability.checksum_plan_objects WHERE interval_key = 'day-1' ORDER BY 1",
        )
        == keys
    )
    assert _reasons(results_dsn, "day-1") == {"rerun": len(keys)}
    assert query(
        results_dsn, "SELECT count(*) FROM reliability.checksum_results WHERE interval_key = 'day-1'"
    ) == [(len(keys),)]
    assert again.summary["counts"] == first.summary["counts"]


def test_failed_shard_leaves_planned_objects_unchecked_and_the_run_failed(
    results_dsn, s3_client, s3_bucket, config
):
    for i in range(9):
        _put(s3_client, s3_bucket, f"uploads/t/{i}")
    planned, outcome = run_once(results_dsn, s3_client, s3_bucket, config, "day-0", T0, shards={0})
    assert len(planned) == 3
    missed = sum(d["objects"] for d in planned if d["shard"] != 0)
    assert outcome.summary["unchecked_objects"] == missed > 0
    assert outcome.status == "failed"
    assert "validate_shard" in dict(outcome.facts)["Not checked"]


def test_summary_of_an_unplanned_run_is_a_failed_outcome(results_dsn):
    [outcome] = run.summarise(results_dsn, "never-planned", now=T0)
    assert outcome.status == "failed" and outcome.alert and "no plan" in outcome.headline


def test_shard_of_an_unplanned_run_says_what_to_do(results_dsn, s3_client, s3_bucket, config):
    with pytest.raises(run.PlanMissing, match="run plan_checks first"):
        run.validate_shard(results_dsn, s3_client, s3_bucket, config, "never-planned", 0)


def test_dump_read_before_its_manifest_existed_is_judged_again_by_the_manifest(
    results_dsn, s3_client, s3_bucket, config
):
    data = os.urandom(5000)
    key = "backups/db/early.dump"
    s3_client.put_object(Bucket=s3_bucket, Key=key, Body=data)
    run_once(results_dsn, s3_client, s3_bucket, config, "day-0", datetime.now(UTC) - timedelta(minutes=30))
    assert query(
        results_dsn, "SELECT last_outcome, last_source FROM reliability.checksum_objects WHERE key = %s", key
    ) == [("ok", "s3_crc32")]
    s3_client.put_object(Bucket=s3_bucket, Key=manifest_key(key), Body=make_manifest(key, data).to_json())
    run_once(results_dsn, s3_client, s3_bucket, config, "day-1", datetime.now(UTC))
    assert _reasons(results_dsn, "day-1") == {"changed": 1}
    assert query(
        results_dsn, "SELECT last_outcome, last_source FROM reliability.checksum_objects WHERE key = %s", key
    ) == [("ok", "manifest")]


def test_deleted_upload_leaves_the_inventory(results_dsn, s3_client, s3_bucket, config):
    _put(s3_client, s3_bucket, "uploads/t/a")
    _put(s3_client, s3_bucket, "uploads/t/b")
    run_once(results_dsn, s3_client, s3_bucket, config, "day-0", T0)
    s3_client.delete_object(Bucket=s3_bucket, Key="uploads/t/a")
    _, outcome = run_once(results_dsn, s3_client, s3_bucket, config, "day-1", T0 + timedelta(days=1))
    assert query(results_dsn, "SELECT key, present FROM reliability.checksum_objects ORDER BY 1") == [
        ("uploads/t/a", False),
        ("uploads/t/b", True),
    ]
    assert outcome.summary["coverage"]["objects"] == 1 and outcome.status == "success"


def test_demo_uploads_exercise_every_integrity_source(results_dsn, s3_client, s3_bucket, config):
    seeded = seed_demo_uploads(s3_client, s3_bucket, tenants=2, sites_per_tenant=2, max_bytes=20_000)
    assert seeded["objects"] == 29 and all(seeded["by_kind"].values())
    # With the shipped verified-ratio floors (uploads/ 90 %): the demo is a clean run.
    floors = replace(config, verified_ratio_floors=load_config().verified_ratio_floors)
    _, outcome = run_once(results_dsn, s3_client, s3_bucket, floors, "demo", datetime.now(UTC))
    assert outcome.summary["prefixes_below_floor"] == []
    sources = dict(
        query(
            results_dsn,
            "SELECT coalesce(source, 'none'), count(*) FROM reliability.checksum_results GROUP BY 1",
        )
    )
    assert sources == {
        "s3_crc32": 4,
        "s3_crc32c": 4,
        "s3_crc64nvme": 5,
        "s3_sha1": 4,
        "s3_sha256": 3,
        "metadata": 2,
        "etag_md5": 3,
        "s3_composite": 1,
        "etag_multipart": 1,
        "none": 2,
    }
    # Every object with integrity data is verified; SSE-KMS objects without a checksum cannot be.
    counts = outcome.summary["counts"]
    assert counts["ok"] == 27 and counts["unverifiable"] == 2
    assert outcome.summary["unverifiable_reasons"] == {"etag_sse_kms": 2}
    assert outcome.status == "success" and not outcome.alert
    assert "Verified by" in dict(outcome.facts) and "SSE-KMS" in dict(outcome.facts)["Unverifiable because"]
    keys = [k for (k,) in query(results_dsn, "SELECT key FROM reliability.checksum_objects")]
    assert (
        "uploads/tenant-001/site-1/Invoice März 2026.pdf" in keys
        and "uploads/tenant-002/site-4/100% growth.csv" in keys
    )
