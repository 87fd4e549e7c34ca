"""Build-size watchdog: measures front-end builds against their size budgets and their own history.

**When it runs**

- *After a build*: CI uploads the build to `s3://<bucket>/builds/<app>/<build id>/` (with a
  `build-info.json` naming branch, commit and time), then announces it with an event on the asset
  `build_size_watchdog/builds` whose extra is `{"app": "web", "build_id": "1234"}`
  (`POST /api/v2/assets/events`). Each announced build is checked.
- *Daily at 06:30 UTC*: the newest build of every app in `include/config/build_budgets.yaml`.
- *On demand* from the trigger form: one app, and optionally a build id (or the absolute path of a
  folder on the worker, only inside the `local_build_roots` of the budget file, none by default), a
  baseline branch, and the build's branch if it carries no build-info.json. A local folder never
  replaces a build recorded from S3 and never joins a baseline.

**What it does**, per build: every file's raw, gzip (level 9) and brotli (quality 11) size (sizes are
cached by content hash, so unchanged files are never compressed again); hashed names normalised
(`main.3f2a1c9b.js` -> `main.[hash].js`) and grouped into bundles; each bundle and the app total
compared with the app's budgets and with the baseline, the median of the last N builds of the
baseline branch. Verdicts: **over_budget**, **warning** (grew past the growth limit), **new**,
**removed**, **ok**, with a delta table like the size bots on pull requests.

**Publishes**: the build and its bundles in the results store (`reliability.build_size_*`),
`build_size_*` gauges per app on the Pushgateway (bundle `__total__` is the app), Slack with the delta
table when a budget is broken, a `build_size.check` line in `backup-monitor.log`. A build over budget
does not fail the run (the hard gate belongs in the build pipeline); a build that cannot be read does.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from reliability.airflow.assets import BUILDS
from reliability.airflow.defaults import DEFAULT_ARGS, run_deadline


@dag(
    dag_id="build_size_watchdog",
    description=__doc__.partition(".")[0],
    doc_md=__doc__,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("30 6 * * *", timezone="UTC"), assets=[BUILDS]
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    deadline=run_deadline(timedelta(hours=1)),
    tags=["reliability", "frontend", "build-size"],
    params={
        "app": Param(
            None,
            type=["null", "string"],
            pattern="^[a-z0-9][a-z0-9_.-]{0,62}$",
            title="App",
            description="An app from include/config/build_budgets.yaml. Empty: every configured app.",
        ),
        "build": Param(
            None,
            type=["null", "string"],
            maxLength=1024,
            # A build id (one path segment), or an absolute folder path; never '..'.
            pattern=r"^(?!.*\.\.)(|[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}|/[A-Za-z0-9._+/-]{1,1023})$",
            title="Build id or folder",
            description="A build id under builds/<app>/ in the bucket (letters, digits and ._:+-), or "
            "the absolute path of a folder on the worker inside a folder listed in local_build_roots "
            "of include/config/build_budgets.yaml (none by default). Empty: the app's newest build.",
        ),
        "baseline_branch": Param(
            None,
            type=["null", "string"],
            maxLength=255,
            title="Baseline branch",
            description="Compare with the median of this branch's recent builds. "
            "Empty: the app's configured baseline branch (main).",
        ),
        "branch": Param(
            None,
            type=["null", "string"],
            maxLength=255,
            title="Branch of this build",
            description="Only for a build without build-info.json: the branch it was built from, "
            "which decides whether it joins that branch's baseline.",
        ),
        "notify_success": Param(
            False,
            type="boolean",
            title="Slack when within budget",
            description="Also post to Slack when every build is within its budgets "
            "(breaches and failures are always posted).",
        ),
    },
)
def build_size_watchdog():
    @task
    def plan_builds(params=None, triggering_asset_events=None) -> list[dict]:
        from reliability.airflow.tasks.build_size_watchdog import plan_builds as plan

        return plan(params, [e.extra for e in (triggering_asset_events or {}).get(BUILDS, [])])

    # One build at a time: each measurement already uses every core for compression.
    @task(max_active_tis_per_dagrun=1, execution_timeout=timedelta(hours=1))
    def measure_build(request: dict, **context) -> dict:
        from reliability.airflow.tasks.build_size_watchdog import measure_build as measure

        return measure(request, context)

    @task(trigger_rule="all_done")
    def publish_results(outcomes) -> dict:
        from reliability.airflow.publish import publish_outcomes

        return publish_outcomes(list(outcomes))

    # The gate turns a published failure into a failed run: no retry (the verdict would not change).
    @task(retries=0)
    def check_outcomes(outcomes) -> str:
        from reliability.airflow.tasks import check_outcomes as check

        return check(list(outcomes))

    outcomes = measure_build.expand(request=plan_builds())
    publish_results(outcomes) >> check_outcomes(outcomes)


build_size_watchdog()
