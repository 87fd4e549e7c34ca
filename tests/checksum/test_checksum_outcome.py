"""The run's Outcome: status, headline, Slack facts and metrics, from stored counts (no server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reliability.checksum.outcome import slack_keys, to_outcome
from reliability.core.outcome import Outcome

NOW = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
HEADER = {
    "interval_key": "k",
    "bucket": "b",
    "prefixes": ["backups/", "uploads/"],
    "full_scan": False,
    "cycle_days": 7.0,
    "planned_at": NOW - timedelta(minutes=3),
    "stats": {"objects_without_manifest": 0},
}


def results(**counts):
    base = {v: 0 for v in ("ok", "mismatch", "size_mismatch", "missing", "unverifiable", "error", "vanished")}
    base.update(counts)
    return {
        "counts": base,
        "by_source": {"ok": {"s3_crc32": base["ok"]}, "unverifiable": {"none": base["unverifiable"]}},
        "unverifiable_reasons": {"no_integrity_data": base["unverifiable"]} if base["unverifiable"] else {},
        "verified_bytes": 5 * 1024**3,
        "hashed_bytes": 6 * 1024**3,
        "first_mismatch": [],
        "first_missing": [],
        "first_error": [],
        "manifest_problems": 0,
        "first_manifest_problem": [],
        "unchecked_objects": 0,
        "unchecked_bytes": 0,
    }


COVER = {"objects": 200, "covered_objects": 150, "bytes": 10, "covered_bytes": 5}


def test_clean_run_is_a_success_without_alert_and_pushes_every_verdict():
    outcome = to_outcome(HEADER, results(ok=90, unverifiable=10), COVER, NOW)
    assert (outcome.status, outcome.alert) == ("success", False)
    assert outcome.headline == "Checksums: 100 objects read, 90 verified (5.37 GB)"
    values = {(m.name, m.labels.get("result"), m.labels.get("source")): m.value for m in outcome.metrics}
    assert values[("checksum_objects", "ok", "s3_crc32")] == 90
    assert values[("checksum_objects", "unverifiable", "none")] == 10
    assert values[("checksum_objects", "missing", "manifest")] == 0
    assert {r for (n, r, _) in values if n == "checksum_objects"} == {
        "ok",
        "mismatch",
        "size_mismatch",
        "missing",
        "unverifiable",
        "conflict",
    }
    assert values[("checksum_verified_ratio", None, None)] == 0.9
    assert values[("checksum_scrub_coverage_ratio", None, None)] == 0.75
    assert values[("checksum_verified_bytes", None, None)] == 5 * 1024**3
    assert outcome.duration_seconds == 180


def test_mismatch_fails_the_run_and_names_the_first_keys():
    data = results(ok=10, mismatch=7)
    data["first_mismatch"] = [f"uploads/t/<{i}>&`x`.bin" for i in range(7)]
    outcome = to_outcome(HEADER, data, COVER, NOW)
    assert (outcome.status, outcome.alert) == ("failed", True)
    assert outcome.headline.startswith("Checksums: 7 mismatched")
    keys = dict(outcome.facts)["Mismatched keys"]
    assert keys.count("`") == 10 and keys.endswith("and 2 more") and "&lt;0&gt;&amp;'x'" in keys


def test_read_errors_and_manifest_problems_warn():
    data = results(ok=10, error=2)
    assert to_outcome(HEADER, data, COVER, NOW).status == "warning"
    data = results(ok=10)
    data["manifest_problems"], data["first_manifest_problem"] = 1, ["backups/x.dump"]
    outcome = to_outcome(HEADER, data, COVER, NOW)
    assert outcome.status == "warning" and outcome.alert and "Manifest not usable for" in dict(outcome.facts)


def test_outcome_survives_the_trip_through_xcom():
    outcome = to_outcome(HEADER, results(ok=3, missing=1), COVER, NOW)
    assert Outcome.from_dict(outcome.to_dict()) == outcome


def test_no_objects_means_full_coverage():
    outcome = to_outcome(
        HEADER, results(), {"objects": 0, "covered_objects": 0, "bytes": 0, "covered_bytes": 0}, NOW
    )
    assert [m.value for m in outcome.metrics if m.name == "checksum_scrub_coverage_ratio"] == [1.0]


def test_slack_keys_are_inline_code():
    assert slack_keys(["a"], 1) == "`a`"


def test_coverage_by_source_and_prefix_floors_are_reported_and_pushed():
    header = {**HEADER, "stats": {"verified_ratio_floors": {"uploads/": 0.9, "backups/": 1.0}}}
    by_prefix = {"backups/": {"objects": 10, "verified": 10}, "uploads/": {"objects": 100, "verified": 80}}
    outcome = to_outcome(header, results(ok=90, unverifiable=10), COVER, NOW, by_prefix=by_prefix)
    assert outcome.status == "warning" and outcome.summary["prefixes_below_floor"] == ["uploads/"]
    facts = dict(outcome.facts)
    assert facts["Coverage"] == (
        "90.0% of 100 objects read verified; stored objects verified: `backups/` 100.0%, "
        "`uploads/` 80.0% (below the 90% floor)"
    )
    assert facts["Verified by"] == "90 s3_crc32" and facts["Unverifiable because"] == "10 no integrity data"
    pushed = {(m.name, m.labels.get("prefix")): m.value for m in outcome.metrics if m.labels.get("prefix")}
    assert pushed == {
        ("checksum_verified_ratio", "backups/"): 1.0,
        ("checksum_verified_ratio", "uploads/"): 0.8,
        ("checksum_verified_ratio_floor", "backups/"): 1.0,
        ("checksum_verified_ratio_floor", "uploads/"): 0.9,
    }


def test_disagreeing_sources_fail_the_run_as_their_own_finding():
    data = results(ok=5, conflict=2)
    data["first_conflict"] = ["uploads/a", "uploads/b"]
    outcome = to_outcome(HEADER, data, COVER, NOW)
    assert outcome.status == "failed" and "2 with disagreeing checksums" in outcome.headline
    assert dict(outcome.facts)["Checksums disagree for"] == "`uploads/a`, `uploads/b`"


def test_refused_params_are_escaped_where_slack_shows_them():
    outcome = to_outcome(
        None, {}, {}, NOW, interval_key="k", input_error="prefix '<!channel>&' is not a key prefix"
    )
    assert (
        outcome.status == "failed"
        and "&lt;!channel&gt;&amp;" in outcome.headline
        and "<!" not in outcome.headline
    )
