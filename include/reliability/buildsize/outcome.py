"""What a build check tells people: the headline, Slack facts, log fields and gauges of one app's build.

:func:`to_outcome` describes a measured build; :func:`failed_outcome` a build that could not be measured.
"""

from __future__ import annotations

from datetime import UTC, datetime

from reliability.buildsize.budgets import AppBudget
from reliability.buildsize.compare import TOTAL, Comparison, markdown_table, mrkdwn_table
from reliability.buildsize.measure import Measurement
from reliability.buildsize.sizes import COMPRESSIONS, format_delta, format_percent
from reliability.core.formatting import format_bytes
from reliability.core.outcome import Metric, Outcome

JOB = "build_size_watchdog"
ACTION = "build_size.check"


def failed_outcome(app: str, build_id: str, started: datetime, error: str) -> Outcome:
    return Outcome(
        job=JOB,
        subject={"app": app},
        status="failed",
        started_at=started,
        finished_at=datetime.now(UTC),
        headline=f"{app} build {build_id} could not be measured",
        summary={"app": app, "build_id": build_id, "error": error},
        facts=(("Error", error[:1500]),),
        alert=True,
        action=ACTION,
        log_fields={"build_id": build_id, "error": error},
    )


def headline(app: str, build_id: str, comparison: Comparison) -> str:
    c = comparison.compression
    flagged = comparison.flagged
    if flagged:
        verdict = comparison.verdict
        worst = [r for r in flagged if r.verdict == verdict]
        bundles = [r for r in worst if r.bundle != TOTAL]
        if verdict == "over_budget":
            what = "over budget"
        elif all(r.empty for r in worst):
            what = "empty"
        else:
            what = "grew past the growth limit" + (" or empty" if any(r.empty for r in worst) else "")
        if not bundles:
            verb = "is " if what in ("over budget", "empty") else ""
            return f"{app} build {build_id}: the total {verb}{what} ({', '.join(worst[0].reasons)})"
        first, plural = bundles[0], "s" if len(bundles) != 1 else ""
        also = "; the total too" if len(worst) > len(bundles) else ""
        return (
            f"{app} build {build_id}: {len(bundles)} bundle{plural} {what} "
            f"({first.bundle}: {', '.join(first.reasons)}){also}"
        )
    total = comparison.total
    versus = (
        f", {format_percent(total.delta_percent(c))} vs the {comparison.baseline.branch} baseline"
        if total.baseline is not None
        else ", no baseline yet"
    )
    return f"{app} build {build_id} is within budgets: {format_bytes(total.sizes.get(c))} {c}{versus}"


def _metric_bundles(budget: AppBudget, comparison: Comparison) -> list:
    """Rows that get their own series: budgeted, flagged, and the largest few (labels stay bounded)."""
    c = comparison.compression
    present = [r for r in comparison.rows if r.sizes is not None]
    chosen = {
        r.bundle
        for r in present
        if budget.limits_for(r.bundle)[1] is not None or r.verdict in ("over_budget", "warning")
    }
    largest = sorted(present, key=lambda r: -r.sizes.get(c))[: budget.metrics_top_bundles]
    chosen.update(r.bundle for r in largest)
    return [comparison.total, *(r for r in present if r.bundle in chosen)]


_BYTES_HELP = {
    "build_size_bytes": "Size of a bundle of the newest checked build, in bytes, per compression",
    "build_size_budget_bytes": "Size budget of a bundle, in bytes, per compression",
}
_FLAG_HELP = {
    "over_budget": ("build_size_over_budget", "1 when the bundle is larger than its budget"),
    "warning": ("build_size_warning", "1 when the bundle grew past the growth limit against the baseline"),
}


def metrics(budget: AppBudget, comparison: Comparison) -> tuple[Metric, ...]:
    out = []
    for row in _metric_bundles(budget, comparison):
        labels = {"app": budget.app, "bundle": row.bundle}
        for c in COMPRESSIONS:
            values = {"build_size_bytes": row.sizes.get(c), "build_size_budget_bytes": row.limits.budget(c)}
            out.extend(
                Metric(name, value, {**labels, "compression": c}, _BYTES_HELP[name])
                for name, value in values.items()
                if value is not None
            )
        out.extend(
            Metric(name, float(row.verdict == verdict), labels, help_text)
            for verdict, (name, help_text) in _FLAG_HELP.items()
        )
    return tuple(out)


def to_outcome(
    budget: AppBudget,
    build_id: str,
    branch: str | None,
    commit: str | None,
    comparison: Comparison,
    measurement: Measurement,
    started: datetime,
    finished: datetime,
) -> Outcome:
    c = comparison.compression
    total = comparison.total
    verdict = comparison.verdict
    stats = measurement.stats
    counts = comparison.counts()
    baseline = comparison.baseline
    baseline_text = (
        f"median of {len(baseline.build_ids)} {baseline.branch} build(s)"
        if baseline.exists
        else f"none yet (no earlier {baseline.branch} builds)"
    )
    change = (
        f" ({format_delta(total.delta(c))}, {format_percent(total.delta_percent(c))})"
        if total.baseline is not None
        else ""
    )
    origin = f" ({branch}{' @ ' + commit[:10] if commit else ''})" if branch else ""
    facts = [
        ("Build", f"{build_id}{origin}"),
        (f"Total ({c})", f"{format_bytes(total.sizes.get(c))}{change}"),
        ("Bundles", ", ".join(f"{n} {v.replace('_', ' ')}" for v, n in counts.items() if n) or "none"),
        ("Baseline", baseline_text),
    ]
    summary = {
        "app": budget.app,
        "build_id": build_id,
        "branch": branch,
        "commit": commit,
        "verdict": verdict,
        "files": total.files,
        "bundles": len([r for r in comparison.rows if r.sizes is not None]),
        "bytes": {k: total.sizes.get(k) for k in COMPRESSIONS},
        "budget_bytes": budget.total.budgets,
        "baseline": {
            "branch": baseline.branch,
            "build_ids": list(baseline.build_ids),
            "bytes": {k: baseline.total.get(k) for k in COMPRESSIONS} if baseline.total else None,
        },
        "counts": counts,
        "flagged": [r.as_dict(c) for r in comparison.flagged[:20]],
        "cache": {
            "hits": stats.cache_hits,
            "compressed_files": stats.compressed_files,
            "compressed_bytes": stats.compressed_bytes,
            "workers": stats.workers,
        },
        "delta_table_markdown": markdown_table(comparison),
    }
    return Outcome(
        job=JOB,
        subject={"app": budget.app},
        status="warning" if verdict != "ok" else "success",
        started_at=started,
        finished_at=finished,
        headline=headline(budget.app, build_id, comparison),
        summary=summary,
        facts=tuple(facts),
        metrics=metrics(budget, comparison),
        alert=verdict == "over_budget",
        detail=mrkdwn_table(comparison) if comparison.flagged else "",
        action=ACTION,
        log_fields={
            "build_id": build_id,
            "branch": branch,
            "verdict": verdict,
            "raw_bytes": total.sizes.raw,
            "gzip_bytes": total.sizes.gzip,
            "brotli_bytes": total.sizes.brotli,
            "over_budget": [r.bundle for r in comparison.flagged if r.verdict == "over_budget"],
        },
    )
