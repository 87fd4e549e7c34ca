"""The checksum run's :class:`Outcome`: status, headline, Slack facts and metrics (pure: tested on examples)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reliability.checksum.hashing import ERROR, OUTCOMES
from reliability.checksum.sources import (
    ETAG_SSE_C,
    ETAG_SSE_KMS,
    MALFORMED,
    NO_INTEGRITY_DATA,
    PARTS_UNKNOWN,
    SOURCES,
)
from reliability.checksum.verdict import CONFLICT, MISMATCH, MISSING, OK, SIZE_MISMATCH, VERDICTS
from reliability.core.formatting import format_bytes
from reliability.core.outcome import Metric, Outcome
from reliability.core.slack import mrkdwn_escape

JOB = "checksum_validation"
ACTION = "checksum.validate"
FIRST_KEYS = 10  # keys named in the summary; Slack shows the first five
_SLACK_KEYS = 5


NARROWED = {"scope": "narrowed"}  # Pushgateway group of runs limited to some prefixes


def _not_planned(interval_key: str, now: datetime, input_error: str | None) -> Outcome:
    if input_error:
        headline = f"Checksum validation did not run: {mrkdwn_escape(input_error)}"
        what = "Trigger the run again with key prefixes as they start the keys (or none for all)"
    else:
        headline = "Checksum validation did not run: no plan was stored for this run"
        what = "Open the failed plan_checks task; its log names the step that failed"
    return Outcome(
        job=JOB,
        subject=NARROWED if input_error else {},
        status="failed",
        started_at=now,
        finished_at=now,
        headline=headline,
        summary={"interval_key": interval_key, "error": input_error or "plan_checks did not complete"},
        facts=(("What to do", what),),
        alert=True,
        action=ACTION,
    )


def to_outcome(
    header: dict[str, Any] | None,
    results: dict[str, Any],
    cover: dict[str, int],
    now: datetime,
    *,
    interval_key: str = "",
    by_prefix: dict[str, dict[str, int]] | None = None,
    input_error: str | None = None,
) -> Outcome:
    """Status, headline, Slack facts and metrics of one run; ``header`` None: no plan was stored.

    ``by_prefix``: per checked prefix, objects with a verdict from a read and how many are verified
    (:func:`reliability.checksum.store.verified_by_prefix`). ``input_error``: the run's Params were
    refused (the run did not start), said once, here.
    """
    if header is None or input_error:
        return _not_planned(interval_key or (header or {}).get("interval_key", ""), now, input_error)
    counts = {v: 0 for v in OUTCOMES} | results["counts"]
    stats = header.get("stats") or {}
    by_prefix = by_prefix or {}
    bad = counts[MISMATCH] + counts[SIZE_MISMATCH]
    checked = sum(counts[v] for v in VERDICTS if v != MISSING)
    errors, unchecked = counts[ERROR], results["unchecked_objects"]
    orphans = stats.get("objects_without_manifest", 0)
    ratio = cover["covered_objects"] / cover["objects"] if cover["objects"] else 1.0
    verified_ratio = counts[OK] / checked if checked else 1.0
    floors = stats.get("verified_ratio_floors") or {}
    below = [
        p for p, c in by_prefix.items() if c["objects"] and c["verified"] / c["objects"] < floors.get(p, 0.0)
    ]

    canary = stats.get("canary")
    canary_passed = bool(canary) and not canary.get("ok") and canary.get("outcome") != ERROR
    canary_unread = bool(canary) and canary.get("outcome") == ERROR

    # A run narrowed to prefixes that hold nothing (a typo) must not look like a clean check.
    nothing_listed = bool(stats.get("narrowed")) and not stats.get("listed_objects")

    if bad or counts[MISSING] or counts[CONFLICT] or unchecked or canary_passed:
        status = "failed"
    elif errors or results["manifest_problems"] or orphans or below or canary_unread or nothing_listed:
        status = "warning"
    else:
        status = "success"

    findings = [
        f"{n:,} {label}"
        for n, label in (
            (counts[MISMATCH], "mismatched"),
            (counts[SIZE_MISMATCH], "with the wrong size"),
            (counts[CONFLICT], "with disagreeing checksums"),
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
            f"({format_bytes(results['verified_bytes'])})"
        )

    if nothing_listed:
        listed = ", ".join(f"`{mrkdwn_escape(p)}`" for p in header["prefixes"])
        headline = f"Checksums: no object under {listed}: nothing was checked (is the prefix right?)"
    if canary_passed:
        headline = (
            f"CRITICAL: the checksum verifier passed its canary (a deliberately wrong checksum was judged "
            f"{canary.get('outcome')}): no verdict of this run can be trusted. {headline}"
        )

    facts: list[tuple[str, str]] = [
        ("Verdicts", " · ".join(f"{counts[v]:,} {v.replace('_', ' ')}" for v in VERDICTS)),
        ("Coverage", coverage_line(verified_ratio, checked, by_prefix, floors)),
        (
            "Read",
            (
                f"{checked:,} objects, {format_bytes(results['hashed_bytes'])} "
                f"({format_bytes(results['verified_bytes'])} verified), "
                f"{results.get('requests_per_object', 0):g} S3 requests per object"
            ),
        ),
        (
            "Scrub coverage",
            f"{ratio:.1%} of {cover['objects']:,} objects read within {header['cycle_days']:g} days",
        ),
    ]
    if canary:
        facts.insert(
            0 if canary_passed else len(facts), ("Verifier canary", canary_line(canary, results, header, now))
        )
    by_source = results.get("by_source") or {}
    if by_source.get(OK):
        facts.append(("Verified by", _tally(by_source[OK])))
    if results.get("unverifiable_reasons"):
        facts.append(("Unverifiable because", _tally(results["unverifiable_reasons"], REASON_TEXT)))
    if bad:
        facts.append(("Mismatched keys", slack_keys(results["first_mismatch"], bad)))
    if counts[CONFLICT]:
        facts.append(
            ("Checksums disagree for", slack_keys(results.get("first_conflict", []), counts[CONFLICT]))
        )
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

    summary = {
        "bucket": header["bucket"],
        "prefixes": list(header["prefixes"]),
        "full": header["full_scan"],
        "interval_key": header["interval_key"],
        "counts": counts,
        "by_source": by_source,
        "unverifiable_reasons": results.get("unverifiable_reasons", {}),
        "verified_ratio": round(verified_ratio, 6),
        "verified_by_prefix": by_prefix,
        "prefixes_below_floor": below,
        "requests_per_object": results.get("requests_per_object", 0.0),
        "verified_bytes": results["verified_bytes"],
        "hashed_bytes": results["hashed_bytes"],
        "unchecked_objects": unchecked,
        "manifest_problems": results["manifest_problems"],
        "coverage": {**cover, "ratio": round(ratio, 6)},
        "first_mismatch": results["first_mismatch"],
        "first_conflict": results.get("first_conflict", []),
        "first_missing": results["first_missing"],
        "first_error": results["first_error"],
        "first_manifest_problem": results["first_manifest_problem"],
        "canary": canary,
        "plan": {k: v for k, v in stats.items() if k != "canary"},
    }
    return Outcome(
        job=JOB,
        # A run narrowed to some prefixes pushes to its own group: the bucket-wide gauges stay as they are.
        subject=NARROWED if stats.get("narrowed") else {},
        status=status,
        started_at=header["planned_at"],
        finished_at=now,
        headline=headline,
        summary=summary,
        facts=tuple(facts),
        metrics=tuple(_metrics(counts, by_source, results, ratio, verified_ratio, by_prefix, floors, canary)),
        alert=status != "success",
        action=ACTION,
        log_fields={"bucket": header["bucket"]},
    )


REASON_TEXT = {
    NO_INTEGRITY_DATA: "no integrity data",
    ETAG_SSE_KMS: "SSE-KMS (ETag not an MD5)",
    ETAG_SSE_C: "SSE-C (ETag not an MD5)",
    MALFORMED: "malformed checksum",
    PARTS_UNKNOWN: "part sizes unknown",
}


def _tally(counts: dict[str, int], names: dict[str, str] | None = None) -> str:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return " · ".join(f"{n:,} {(names or {}).get(k, k)}" for k, n in ordered if n)


def coverage_line(
    verified_ratio: float, checked: int, by_prefix: dict[str, dict[str, int]], floors: dict[str, float]
) -> str:
    """The Slack summary line: share verified in this run, and per prefix (with its floor, when below it)."""
    parts = []
    for prefix, c in by_prefix.items():
        if not c["objects"]:
            continue
        share = c["verified"] / c["objects"]
        floor = floors.get(prefix)
        flag = f" (below the {floor:.0%} floor)" if floor is not None and share < floor else ""
        parts.append(f"`{mrkdwn_escape(prefix)}` {share:.1%}{flag}")
    line = f"{verified_ratio:.1%} of {checked:,} objects read verified"
    return line + (f"; stored objects verified: {', '.join(parts)}" if parts else "")


_RATIO_DOC = (
    'Share of objects verified: of the last run\'s reads (prefix=""), and of the stored objects under each '
    "configured prefix (their latest verdict)"
)


def canary_line(
    canary: dict[str, Any], results: dict[str, Any], header: dict[str, Any], now: datetime
) -> str:
    """What the canary check found and what it cost, beside the run's own reads and duration."""
    key = f"`{mrkdwn_escape(canary.get('key', ''))}`"
    if canary.get("outcome") == ERROR:
        return f"{key} could not be checked ({canary.get('error')}): the verifier is not proven this run"
    seconds = float(canary.get("seconds") or 0.0)
    run_seconds = max((now - header["planned_at"]).total_seconds(), seconds, 1e-9)
    read = results["hashed_bytes"] + int(canary.get("bytes") or 0)
    cost = (
        f"{format_bytes(canary.get('bytes') or 0)} read in {seconds:.2f} s: "
        f"{seconds / run_seconds:.1%} of the run's time, {(canary.get('bytes') or 0) / read if read else 0:.1%} "
        "of its bytes"
    )
    if canary.get("ok"):
        return f"{key}: a wrong checksum was caught (mismatch), as required; {cost}"
    return f"{key}: a deliberately wrong checksum was judged *{canary.get('outcome')}*, not mismatch; {cost}"


def _metrics(
    counts, by_source, results, ratio, verified_ratio, by_prefix, floors, canary=None
) -> list[Metric]:
    metrics = [
        Metric(
            "checksum_objects",
            float((by_source.get(v) or {}).get(source, 0)),
            {"result": v, "source": source},
            "Objects by verdict and deciding source in the last checksum validation run",
        )
        for v in VERDICTS
        for source in (*SOURCES, "none")
    ]
    metrics += [
        Metric(
            "checksum_verified_bytes",
            float(results["verified_bytes"]),
            documentation="Bytes re-read and found equal to every checksum they have in the last run",
        ),
        Metric(
            "checksum_scrub_coverage_ratio",
            ratio,
            documentation="Share of stored objects re-hashed within the scrub cycle",
        ),
        Metric(
            "checksum_read_errors",
            float(counts[ERROR]),
            documentation="Objects that could not be read after retries in the last run (integrity unknown)",
        ),
        Metric(
            "checksum_verified_ratio",
            verified_ratio,
            # prefix="" is no label at all for Prometheus: the whole run, beside the per-prefix series.
            {"prefix": ""},
            documentation=_RATIO_DOC,
        ),
    ]
    # 0 means the verifier passed a damaged input (VerifierCanaryFailed, critical); a canary that could
    # not be read proves nothing either way and pushes nothing (the run warns instead).
    if canary and canary.get("outcome") != ERROR:
        metrics.append(
            Metric(
                "reliability_verifier_canary_ok",
                1.0 if canary.get("ok") else 0.0,
                documentation="1 if the job's verifier caught its deliberately bad canary input this run, else 0",
            )
        )
    for prefix, c in by_prefix.items():
        if c["objects"]:
            metrics.append(
                Metric(
                    "checksum_verified_ratio",
                    c["verified"] / c["objects"],
                    {"prefix": prefix},
                    _RATIO_DOC,
                )
            )
        if prefix in floors:
            metrics.append(
                Metric(
                    "checksum_verified_ratio_floor",
                    float(floors[prefix]),
                    {"prefix": prefix},
                    "Configured lowest acceptable checksum_verified_ratio of a prefix",
                )
            )
    return metrics


def slack_keys(keys: list[str], total: int) -> str:
    """The first keys as inline code, escaped for Slack mrkdwn, and how many more there are."""
    shown = keys[:_SLACK_KEYS]
    text = ", ".join("`" + mrkdwn_escape(k[:120]).replace("`", "'") + "`" for k in shown)
    if total > len(shown):
        text += f" and {total - len(shown):,} more"
    return text
