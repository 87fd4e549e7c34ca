"""The checksum run's :class:`Outcome`: status, headline, Slack facts and metrics (pure: tested on examples)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reliability.checksum.hashing import ERROR, MISMATCH, MISSING, OK, SIZE_MISMATCH, VERDICTS
from reliability.core.formatting import format_bytes
from reliability.core.outcome import Metric, Outcome
from reliability.core.slack import mrkdwn_escape

JOB = "checksum_validation"
ACTION = "checksum.validate"
FIRST_KEYS = 10  # keys named in the summary; Slack shows the first five
_SLACK_KEYS = 5


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


def to_outcome(
    header: dict[str, Any] | None,
    results: dict[str, Any],
    cover: dict[str, int],
    now: datetime,
    *,
    interval_key: str = "",
) -> Outcome:
    """Status, headline, Slack facts and metrics of one run; ``header`` None: no plan was stored."""
    if header is None:
        return _not_planned(interval_key, now)
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
            f"({format_bytes(results['verified_bytes'])})"
        )

    facts: list[tuple[str, str]] = [
        ("Verdicts", " · ".join(f"{counts[v]:,} {v.replace('_', ' ')}" for v in VERDICTS)),
        (
            "Read",
            (
                f"{checked:,} objects, {format_bytes(results['hashed_bytes'])} "
                f"({format_bytes(results['verified_bytes'])} verified)"
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
    text = ", ".join("`" + mrkdwn_escape(k[:120]).replace("`", "'") + "`" for k in shown)
    if total > len(shown):
        text += f" and {total - len(shown):,} more"
    return text
