"""The ``build_size_watchdog`` job: which builds to check, and one :class:`Outcome` per app checked.

A run checks builds named in three ways, first match wins:

1. builds announced by CI as events on the ``build_size_watchdog/builds`` asset, whose ``extra`` is
   ``{"app": "web", "build_id": "1234"}`` (optionally ``"branch"``);
2. the trigger form: an app, optionally a build id (or an absolute local folder), a baseline branch;
3. otherwise (the daily run) the newest build of every configured app.

Checking a build: list its files, measure them (cached by content), group them into bundles by
normalised name, load the baseline (median of the last N builds of the baseline branch), compare,
store the build in the history, and describe the result. A build that cannot be read gives a
``failed`` outcome for that app and the other apps are still checked; a broken budget file or results
store fails the task, because then no app can be checked correctly.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from reliability.buildsize.budgets import AppBudget, BudgetConfig, load_config
from reliability.buildsize.compare import TOTAL, Bundle, Comparison, compare, markdown_table, mrkdwn_table
from reliability.buildsize.errors import BuildSizeError, EmptyBuild
from reliability.buildsize.measure import Measurement, measure_files
from reliability.buildsize.sizes import COMPRESSIONS, ZERO, Sizes, format_bytes, format_delta, format_percent
from reliability.buildsize.sources import (
    BuildInfo,
    BuildSource,
    LocalBuild,
    S3Build,
    check_build_id,
    newest_build_id,
)
from reliability.core.outcome import Metric, Outcome

log = logging.getLogger(__name__)

JOB = "build_size_watchdog"
ACTION = "build_size.check"
ASSET = "build_size_watchdog/builds"


@dataclass(frozen=True)
class BuildRequest:
    app: str
    build: str | None = None  # a build id under builds/<app>/, an absolute local folder, or None: the newest
    baseline_branch: str | None = None  # None: the app's configured baseline branch
    branch: str | None = None  # the build's branch when it carries no build-info.json

    @property
    def is_local(self) -> bool:
        return bool(self.build) and self.build.startswith("/")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuildRequest:
        return cls(**{k: data.get(k) for k in ("app", "build", "baseline_branch", "branch")})


def plan_requests(
    config: BudgetConfig,
    *,
    app: str | None = None,
    build: str | None = None,
    baseline_branch: str | None = None,
    branch: str | None = None,
    announced: Iterable[dict[str, Any]] = (),
) -> list[BuildRequest]:
    """The builds a run checks; ValueError says which input is wrong and what is allowed."""
    requests: list[BuildRequest] = []
    for extra in announced:
        if not isinstance(extra, dict) or not extra.get("app") or not extra.get("build_id"):
            raise ValueError(
                f"asset event extra {extra!r} must name the build: "
                '{"app": "<app>", "build_id": "<build id>"} (optionally "branch")'
            )
        config.app(extra["app"])
        request = BuildRequest(
            extra["app"],
            check_build_id(str(extra["build_id"])),
            baseline_branch or None,
            extra.get("branch") or None,
        )
        if request not in requests:
            requests.append(request)
    if requests:
        return requests
    build = (build or "").strip() or None
    if app:
        config.app(app)
        if build and not build.startswith("/"):
            check_build_id(build)
        return [BuildRequest(app, build, baseline_branch or None, branch or None)]
    if build:
        raise ValueError(
            f"build {build!r} was given without its app: choose the app it belongs to "
            f"(configured: {', '.join(sorted(config.apps))})"
        )
    return [BuildRequest(name, None, baseline_branch or None, None) for name in sorted(config.apps)]


def plan(
    params: dict[str, Any],
    announced: Iterable[dict[str, Any]] = (),
    config: BudgetConfig | None = None,
) -> list[dict[str, Any]]:
    """:func:`plan_requests` from the DAG's params and asset event extras, as XCom-safe dicts."""
    config = config or load_config()
    return [
        r.to_dict()
        for r in plan_requests(
            config,
            app=params.get("app"),
            build=params.get("build"),
            baseline_branch=params.get("baseline_branch"),
            branch=params.get("branch"),
            announced=announced,
        )
    ]


def run(
    requests: Sequence[dict[str, Any]],
    *,
    results_dsn: str,
    interval_key: str,
    s3_client=None,
    bucket: str | None = None,
    config: BudgetConfig | None = None,
    workers: int | None = None,
) -> list[dict[str, Any]]:
    """Check each requested build; the outcomes as dicts for :func:`reliability.core.publish.publish_outcomes`."""
    outcomes = check_builds(
        [BuildRequest.from_dict(r) for r in requests],
        results_dsn=results_dsn,
        interval_key=interval_key,
        s3_client=s3_client,
        bucket=bucket,
        config=config,
        workers=workers,
    )
    return [o.to_dict() for o in outcomes]


def check_builds(
    requests: Sequence[BuildRequest],
    *,
    results_dsn: str,
    interval_key: str,
    s3_client=None,
    bucket: str | None = None,
    config: BudgetConfig | None = None,
    workers: int | None = None,
) -> list[Outcome]:
    from reliability.buildsize.store import SizeCache
    from reliability.core.store import connect

    config = config or load_config()
    with connect(results_dsn, autocommit=True) as conn:
        cache = SizeCache(conn)
        outcomes = [
            check_build(
                r,
                config.app(r.app),
                conn=conn,
                cache=cache,
                interval_key=interval_key,
                s3_client=s3_client,
                bucket=bucket,
                workers=workers,
            )
            for r in requests
        ]
        pruned = cache.prune()
        if pruned:
            log.info("pruned %d unused entries from the build size cache", pruned)
    return outcomes


def open_source(request: BuildRequest, s3_client=None, bucket: str | None = None) -> BuildSource:
    if request.is_local:
        return LocalBuild(request.build, request.app)
    if s3_client is None or not bucket:
        raise BuildSizeError(
            f"builds of {request.app} are read from S3, but no S3 client or bucket was given"
        )
    build_id = request.build or newest_build_id(s3_client, bucket, request.app)
    return S3Build(s3_client, bucket, request.app, build_id)


def check_build(
    request: BuildRequest,
    budget: AppBudget,
    *,
    conn,
    cache,
    interval_key: str,
    s3_client=None,
    bucket: str | None = None,
    workers: int | None = None,
) -> Outcome:
    from reliability.buildsize.store import BuildRecord, load_baseline, save_build

    started = datetime.now(UTC)
    build_id = request.build or "(newest)"
    try:
        source = open_source(request, s3_client, bucket)
        build_id = source.build_id
        raw_info = source.read_small(budget.build_info_file)
        info = (
            BuildInfo.parse(raw_info, f"{budget.build_info_file} of {source.where}")
            if raw_info
            else BuildInfo()
        )
        files = [f for f in source.list_files() if f.path != budget.build_info_file]
        if not files:
            raise EmptyBuild(f"{source.where} has no files; check that CI uploaded the whole build")
        kept = [f for f in files if not budget.ignores(budget.bundle_name(f.path))]
        if not kept:
            raise EmptyBuild(
                f"every file of {source.where} matches an ignore glob of {budget.app}; "
                "check 'ignore' in the budget file"
            )
        measurement = measure_files(source, kept, cache, workers=workers)
    except BuildSizeError as exc:
        log.warning("build %s of %s could not be measured: %s", build_id, request.app, exc)
        return _failed(request.app, build_id, started, str(exc))

    bundles = bundles_of(budget, measurement)
    branch = info.branch or request.branch
    built_at = info.created_at or max(f.modified for f in files)
    baseline = load_baseline(
        conn,
        budget.app,
        request.baseline_branch or budget.baseline_branch,
        budget.baseline_builds,
        before=built_at,
        exclude=build_id,
    )
    comparison = compare(budget, bundles, baseline)
    finished = datetime.now(UTC)
    save_build(
        conn,
        BuildRecord(
            budget.app, build_id, branch, info.commit, built_at, finished, interval_key, source.where
        ),
        bundles,
        comparison,
    )
    return describe(budget, build_id, branch, info.commit, comparison, measurement, started, finished)


def bundles_of(budget: AppBudget, measurement: Measurement) -> list[Bundle]:
    grouped: dict[str, list[Sizes]] = defaultdict(list)
    for file in measurement.files:
        grouped[budget.bundle_name(file.path)].append(file.sizes)
    return [Bundle(name, len(sizes), sum(sizes, ZERO)) for name, sizes in sorted(grouped.items())]


def _failed(app: str, build_id: str, started: datetime, error: str) -> Outcome:
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


def _headline(app: str, build_id: str, comparison: Comparison) -> str:
    c = comparison.compression
    flagged = comparison.flagged
    if flagged:
        verdict = comparison.verdict
        worst = [r for r in flagged if r.verdict == verdict]
        bundles = [r for r in worst if r.bundle != TOTAL]
        what = "over budget" if verdict == "over_budget" else "grew past the growth limit"
        if not bundles:
            verb = "is " if verdict == "over_budget" else ""
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


def metrics(budget: AppBudget, comparison: Comparison) -> tuple[Metric, ...]:
    out = []
    for row in _metric_bundles(budget, comparison):
        labels = {"app": budget.app, "bundle": row.bundle}
        for c in COMPRESSIONS:
            out.append(
                Metric(
                    "build_size_bytes",
                    row.sizes.get(c),
                    {**labels, "compression": c},
                    "Size of a bundle of the newest checked build, in bytes, per compression",
                )
            )
            if row.limits.budget(c) is not None:
                out.append(
                    Metric(
                        "build_size_budget_bytes",
                        row.limits.budget(c),
                        {**labels, "compression": c},
                        "Size budget of a bundle, in bytes, per compression",
                    )
                )
        out.append(
            Metric(
                "build_size_over_budget",
                float(row.verdict == "over_budget"),
                labels,
                "1 when the bundle is larger than its budget",
            )
        )
        out.append(
            Metric(
                "build_size_warning",
                float(row.verdict == "warning"),
                labels,
                "1 when the bundle grew past the growth limit against the baseline",
            )
        )
    return tuple(out)


def describe(
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
        headline=_headline(budget.app, build_id, comparison),
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
