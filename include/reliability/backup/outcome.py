"""The backup job's :class:`~reliability.core.outcome.Outcome`: headline, Slack facts and the ``backup_*`` gauges."""

from __future__ import annotations

from datetime import UTC, datetime

from reliability.backup.models import ACTION, JOB, BackupResult
from reliability.core.formatting import format_bytes, format_duration
from reliability.core.outcome import Metric, Outcome


def to_outcome(result: BackupResult, now: datetime | None = None) -> Outcome:
    now = now or datetime.now(UTC)
    db, verdict = result.request.database, result.verdict.verdict
    status = {"verified": "success", "suspicious": "warning"}.get(verdict, "failed")
    what = "Backup" if result.request.mode == "backup" else "Existing backup"
    if verdict == "verified":
        headline = (
            f"{what} of {db} verified: {len(result.tables)} tables, {result.rows:,} rows, "
            f"{format_bytes(result.size_bytes)}"
        )
    else:
        first = result.verdict.reasons[0] if result.verdict.reasons else "no reason given"
        headline = f"{what} of {db} {verdict}: {first}"
    if result.store_error:
        headline += " (not stored in the results store)"
    canary = result.canary
    if canary is not None and canary.ok is False:
        # The verifier passed a dump it had to call corrupt: no verdict of this job can be trusted.
        status = "failed"
        headline = (
            f"CRITICAL: the backup verifier did not catch a damaged copy of {db}'s dump "
            f"(it said {canary.verdict}): no backup verdict can be trusted until it is fixed. {headline}"
        )
    elif canary is not None and canary.ok is None and status == "success":
        status = "warning"
    facts = [
        ("Verdict", verdict),
        ("Size", format_bytes(result.size_bytes)),
        ("Tables", str(len(result.tables))),
        ("Rows", f"{result.rows:,}"),
        ("Duration", format_duration(result.duration_seconds)),
        ("Object", f"s3://{result.bucket}/{result.dump_key}"),
    ]
    if result.verdict.reasons:
        facts.append(("Why", "; ".join(result.verdict.reasons)[:500]))
    if canary is not None:
        facts.append(("Canary", _canary_fact(canary, result.duration_seconds)))
    return Outcome(
        job=JOB,
        subject={"database": db},
        status=status,
        started_at=result.started_at,
        finished_at=result.finished_at,
        headline=headline[:300],
        summary=result.summary(),
        facts=tuple(facts),
        metrics=tuple(_metrics(result, now)),
        alert=status != "success" or verdict != "verified" or bool(result.store_error),
        action=ACTION,
        log_fields={
            "verdict": verdict,
            "dumpKey": result.dump_key,
            "sizeBytes": result.size_bytes,
            "sha256": result.sha256,
            "mode": result.request.mode,
        },
    )


def _metrics(result: BackupResult, now: datetime) -> list[Metric]:
    verdict = result.verdict.verdict
    metrics = [
        Metric("backup_size_bytes", float(result.size_bytes), {}, "Size of the dump object"),
        Metric(
            "backup_duration_seconds",
            result.duration_seconds,
            {},
            "Wall time of dump, upload and verification",
        ),
        Metric(
            "backup_verified",
            1.0 if result.verdict.usable else 0.0,
            {},
            "1 if the dump was read back completely and matches the source (verified or suspicious)",
        ),
        Metric(
            "backup_suspicious",
            1.0 if verdict == "suspicious" else 0.0,
            {},
            "1 if the dump is readable but looks wrong (zero-row large table, size drop)",
        ),
        Metric("backup_tables", float(len(result.tables)), {}, "Tables with data in the dump"),
        Metric("backup_rows", float(result.rows), {}, "Rows in the dump"),
    ]
    if result.newest_usable_at is not None:
        metrics.append(
            Metric(
                "backup_age_seconds",
                max(0.0, (now - result.newest_usable_at).total_seconds()),
                {},
                "Age of the newest verified dump",
            )
        )
    if result.canary is not None and result.canary.ok is not None:
        metrics.append(
            Metric(
                "reliability_verifier_canary_ok",
                1.0 if result.canary.ok else 0.0,
                {},
                "1 if the verifier judged a deliberately damaged input as it must (the backup canary: corrupt)",
            )
        )
    return metrics


def _canary_fact(canary, run_seconds: float) -> str:
    if canary.ok is None:
        return f"not checked: {canary.error}"
    said = "caught" if canary.ok else "PASSED (must be corrupt)"
    return (
        f"{said}: {canary.verdict} on {canary.damage}; {canary.seconds:.2f} s, "
        f"{canary.share_of(run_seconds):.1%} of the run"
    )
