"""Checksum validation: prove that stored backups and user uploads are still byte-for-byte what was written.

Runs daily at 04:30 UTC, and after every new verified backup (the `backup_verify/<db>` Assets).
Settings: `include/config/checksum.yaml` (prefixes, byte budget, scrub cycle, shards, concurrency).

1. **Plan** (`plan_checks`): list every object under the prefixes (default `backups/` and `uploads/`),
   compare the listing with the inventory in the results store, and choose this run's reads within the
   byte budget: objects that are new or changed (ETag / last-modified) first, then the rolling scrub,
   least recently read first, so that every object is re-hashed at least once per cycle (7 days by
   default). A manifest whose object is gone makes that object `missing`. The work is split into shards.
2. **Validate** (`validate_shard`, one mapped task per shard, shared by the Celery workers): each object
   is read with one GET and every integrity source it has is checked on that one streaming pass, with
   bounded memory. Sources, most trusted first: the backup manifest next to it (SHA-256 and size), S3's
   full-object checksums (SHA-256, SHA-1, CRC64NVME, CRC32C, CRC32), S3's composite checksum of a
   multipart upload, a `sha256` metadata entry, the MD5 ETag of a single-part upload (not under SSE-KMS
   or SSE-C), a multipart ETag. Part boundaries (composite checksums, multipart ETags) come from
   `GetObjectAttributes`, else `HeadObject` part numbers: one metadata call. Verdicts: `ok` (every source
   agrees), `mismatch` (none does), `conflict` (sources disagree: a finding of its own, never verified),
   `size_mismatch`, `missing`, `unverifiable` (with the reason). Throttling, 5xx and dropped connections
   are retried with backoff; an object still unreadable is stored as a read *error* (integrity unknown),
   counted and alerted, without hiding the other verdicts. The plan step also checks the **verifier
   canary** (`canary_key`): a deliberately wrong checksum that must come out `mismatch`, or the run fails.
3. **Summarise** and **publish**: per-object latest verdict and history in the results store
   (`reliability.checksum_objects`, `reliability.checksum_results`); Pushgateway
   `checksum_objects{result,source}`, `checksum_verified_ratio` (run and per prefix, with its floor),
   `checksum_verified_bytes`, `checksum_scrub_coverage_ratio`, `checksum_read_errors`,
   `reliability_verifier_canary_ok`; Slack on any finding (the first keys and a count, never contents)
   with the coverage by source; a `checksum.validate` line in `backup-monitor.log`. The run then fails if
   anything is corrupt, missing, disagreeing, or the canary passed.

*Full*: tick "Check everything now" to re-read every object regardless of budget and schedule, e.g.
after an incident. *Prefixes* narrow a run to part of the configured prefixes; such a run pushes its
gauges to their own group (`scope="narrowed"`), so the bucket-wide ones stay as they were. A rerun of the same run re-reads the same objects and replaces their verdicts.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import AssetAny, AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from reliability.airflow.assets import BACKUP_ASSETS
from reliability.airflow.defaults import DEFAULT_ARGS, run_deadline


@dag(
    dag_id="checksum_validation",
    description=__doc__.partition(".")[0],
    doc_md=__doc__,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("30 4 * * *", timezone="UTC"), assets=AssetAny(*BACKUP_ASSETS)
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    deadline=run_deadline(timedelta(hours=3)),
    tags=["reliability", "checksum", "s3", "backup"],
    params={
        "prefixes": Param(
            None,
            type=["null", "array"],
            # A key prefix as it starts the keys: no leading "/", no "." or ".." segments (S3 keys are not paths).
            items={"type": "string", "minLength": 1, "pattern": r"^(?!/)(?!(.*/)?\.{1,2}(/|$))(?!.*//).+$"},
            uniqueItems=True,
            title="Prefixes",
            description='Key prefixes to check, e.g. ["uploads/tenant-001/"]. Empty: the prefixes '
            "of include/config/checksum.yaml (backups/ and uploads/). A run with other prefixes "
            "pushes its gauges to its own group (scope=narrowed).",
        ),
        "byte_budget_gib": Param(
            None,
            type=["null", "number"],
            exclusiveMinimum=0,
            maximum=1_000_000,
            title="Byte budget (GiB)",
            description="At most this much is re-read in this run (new and changed objects "
            "first, then the scrub). Empty: the configured budget.",
        ),
        "full": Param(
            False,
            type="boolean",
            title="Check everything now",
            description="Re-read every object under the prefixes, ignoring the budget and the scrub "
            "schedule.",
        ),
        "notify_success": Param(
            False,
            type="boolean",
            title="Slack success line",
            description="Also post to Slack when everything checked out; findings and read "
            "errors are always posted.",
        ),
    },
)
def checksum_validation():
    @task
    def plan_checks(**context) -> list[dict]:
        from reliability.airflow.tasks.checksum_validation import plan_checks as plan

        return plan(context)

    @task
    def validate_shard(shard: dict) -> dict:
        from reliability.airflow.tasks.checksum_validation import validate

        return validate(shard)

    # Runs even when a shard (or the plan) failed: the outcome then says what was not checked.
    @task(trigger_rule="all_done")
    def summarise(**context) -> list[dict]:
        from reliability.airflow.tasks.checksum_validation import summarise_run

        return summarise_run(context)

    @task
    def publish_results(outcomes: list[dict]) -> dict:
        from reliability.airflow.publish import publish_outcomes

        return publish_outcomes(outcomes)

    # The gate turns a published failure into a failed run: no retry (the verdict would not change).
    @task(retries=0)
    def check_outcomes(outcomes: list[dict]) -> str:
        from reliability.airflow.tasks import check_outcomes as check

        return check(outcomes)

    validated = validate_shard.expand(shard=plan_checks())
    outcomes = summarise()
    validated >> outcomes
    publish_results(outcomes) >> check_outcomes(outcomes)


checksum_validation()
