"""The ``build_size_watchdog`` run: which builds to check, and one :class:`Outcome` per app checked.

A run checks builds named in three ways, first match wins:

1. builds announced by CI as events on the ``build_size_watchdog/builds`` asset, whose ``extra`` is
   ``{"app": "web", "build_id": "1234"}`` (optionally ``"branch"``);
2. the trigger form: an app, optionally a build id (or an absolute local folder), a baseline branch;
3. otherwise (the daily run) the newest build of every configured app.

Checking a build: list its files, measure them (cached by content), group them into bundles by
normalised name, load the baseline (median of the last N builds of the baseline branch), compare,
store the build in the history, and describe the result (:mod:`reliability.buildsize.outcome`). A build that cannot be read gives a
``failed`` outcome for that app and the other apps are still checked; a broken budget file or results
store fails the task, because then no app can be checked correctly.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reliability.buildsize.budgets import AppBudget, BudgetConfig
from reliability.buildsize.compare import Bundle, compare
from reliability.buildsize.config import load_config
from reliability.buildsize.errors import BuildSizeError, EmptyBuild
from reliability.buildsize.measure import Measurement, measure_files
from reliability.buildsize.outcome import failed_outcome, to_outcome
from reliability.buildsize.sizes import ZERO, Sizes
from reliability.buildsize.sources import (
    BuildInfo,
    BuildSource,
    LocalBuild,
    S3Build,
    check_build_id,
    local_build_folder,
    newest_build_id,
)
from reliability.core.outcome import Outcome

log = logging.getLogger(__name__)


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
        if build and build.startswith("/"):
            build = str(local_build_folder(build, config.local_build_roots))
        elif build:
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


def run(requests: Sequence[dict[str, Any]], **options) -> list[Outcome]:
    """Check each requested build (XCom dicts from :func:`plan`); ``options`` as for :func:`check_builds`."""
    return check_builds([BuildRequest.from_dict(r) for r in requests], **options)


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
    from reliability.core.publish import STORE_CONNECT_TIMEOUT
    from reliability.core.store import connect

    config = config or load_config()
    try:
        conn = connect(results_dsn, autocommit=True, connect_timeout=STORE_CONNECT_TIMEOUT)
    except Exception as exc:  # no baseline without the store: each app fails, and publishing still reports it
        from reliability.core.publish import describe_store_error

        error = f"results store unreachable, so the build has no baseline: {describe_store_error(exc, results_dsn)}"
        log.warning("%s", error)
        started = datetime.now(UTC)
        return [failed_outcome(r.app, r.build or "(newest)", started, error) for r in requests]
    with conn:
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
                local_roots=config.local_build_roots,
            )
            for r in requests
        ]
        pruned = cache.prune()
        if pruned:
            log.info("pruned %d unused entries from the build size cache", pruned)
    return outcomes


def open_source(
    request: BuildRequest, s3_client=None, bucket: str | None = None, local_roots: Sequence[Path] = ()
) -> BuildSource:
    if request.is_local:
        try:
            folder = local_build_folder(request.build, local_roots)
        except ValueError as exc:
            raise BuildSizeError(str(exc)) from None
        return LocalBuild(folder, request.app)
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
    local_roots: Sequence[Path] = (),
) -> Outcome:
    from reliability.buildsize.store import BuildRecord, load_baseline, refuse_replacing_s3, save_build

    started = datetime.now(UTC)
    build_id = request.build or "(newest)"
    try:
        source = open_source(request, s3_client, bucket, local_roots)
        build_id = source.build_id
        if source.is_local:
            refuse_replacing_s3(conn, budget.app, build_id)
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
        return failed_outcome(request.app, build_id, started, str(exc))

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
            budget.app,
            build_id,
            branch,
            info.commit,
            built_at,
            finished,
            interval_key,
            source.where,
            local=source.is_local,
        ),
        bundles,
        comparison,
    )
    return to_outcome(budget, build_id, branch, info.commit, comparison, measurement, started, finished)


def bundles_of(budget: AppBudget, measurement: Measurement) -> list[Bundle]:
    grouped: dict[str, list[Sizes]] = defaultdict(list)
    for file in measurement.files:
        grouped[budget.bundle_name(file.path)].append(file.sizes)
    return [Bundle(name, len(sizes), sum(sizes, ZERO)) for name, sizes in sorted(grouped.items())]
