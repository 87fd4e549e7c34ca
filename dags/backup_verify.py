"""Nightly backup verification: dump each platform database to S3 and prove the dump can be trusted.

Every night at 02:00 UTC, for each configured database (`include/config/backup.yaml`):

1. **Dump, hash, upload and verify in one pass**: `pg_dump` streams into an S3 multipart upload while
   its SHA-256 is computed and `pg_restore` reads every data block back (a truncated or bit-flipped dump
   fails here; `pg_restore --list` alone would pass it).
2. **Check the content**: the dump's table of contents holds every table of the source catalog, each
   table's rows are counted and digested from the dump's own data stream, a table the source's
   statistics call large must not have dumped zero rows, and the size must not drop sharply against the
   recent verified dumps.
3. **Manifest** next to the object (`<key>.manifest.json`: versions, SHA-256, per-table rows and digests,
   TOC summary, verdict), written only after the upload completed and was read back.
   **Canary**: a copy of the dump's first MiB, cut off there, is verified the same way and must come out
   corrupt; if the verifier passes it, the run fails with a critical message
   (`reliability_verifier_canary_ok` 0, alert `VerifierCanaryFailed`).
4. **Publish**: results store, Pushgateway (`backup_*` gauges per `database`), Slack on failure or
   suspicion (and a daily success line), a `backup.verify` line in `backup-monitor.log`.
5. **Announce**: an event on the database's Asset (`backup_verify/<db>`) for each usable new dump;
   checksum validation and the restore test follow it.

Verdicts: **verified**; **suspicious** (readable, but flagged: say why); **corrupt** (unreadable,
incomplete, of another database); **failed** (pg_dump or the upload failed: no object, no manifest).
The run fails when any backup is corrupt or failed.

*Verify only*: set `verify_only_key` to an existing object's key to read it back and judge it the same
way (against its manifest when it has one) without taking a new dump. A key that does not exist or is
not under a configured database's prefix (`backups/<db>/`) fails the run at its first task, and nothing
is recorded or pushed for the database.
From a shell: `python -m reliability.backup verify --file PATH` or `--s3-key KEY --bucket B`.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task

from reliability.airflow.assets import BACKUP_ALIAS
from reliability.airflow.defaults import DEFAULT_ARGS, run_deadline
from reliability.backup.config import load_config

CONFIG = load_config()
DATABASES = [db.name for db in CONFIG.databases]


@dag(
    dag_id="backup_verify",
    description=__doc__.partition(".")[0],
    doc_md=__doc__,
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    deadline=run_deadline(timedelta(hours=2)),
    tags=["reliability", "backup", "postgres"],
    params={
        "databases": Param(
            DATABASES,
            type="array",
            items={"type": "string", "enum": DATABASES},
            minItems=1,
            uniqueItems=True,
            title="Databases",
            description="Which configured databases to back up (or, with a verify-only key, "
            "which one the object belongs to).",
        ),
        "dump_format": Param(
            CONFIG.dump.format,
            type="string",
            enum=["custom", "directory"],
            title="Dump format",
            description="custom: one archive streamed to S3 as it is made. directory: parallel "
            "pg_dump jobs into a folder, stored as one tar.",
        ),
        "compression": Param(
            CONFIG.dump.compression,
            type="integer",
            minimum=0,
            maximum=9,
            title="Compression level",
            description="pg_dump compression, 0 (none) to 9 (smallest).",
        ),
        "jobs": Param(
            CONFIG.dump.jobs,
            type="integer",
            minimum=1,
            maximum=16,
            title="Parallel jobs",
            description="pg_dump --jobs for the directory format (ignored for custom).",
        ),
        "verify_only_key": Param(
            None,
            type=["null", "string"],
            maxLength=1024,
            title="Verify only: S3 key",
            description="Verify this existing dump object instead of taking a new dump; "
            "leave empty for a normal backup.",
        ),
        "notify_success": Param(
            True,
            type="boolean",
            title="Slack success line",
            description="Also post to Slack when every backup is verified.",
        ),
    },
)
def backup_verify():
    @task
    def plan_backups(**context) -> list[dict]:
        from reliability.airflow.tasks.backup_verify import plan

        return plan(context)

    # One database at a time: two dumps at once would double the load on the source server.
    @task(max_active_tis_per_dagrun=1)
    def dump_and_verify(request: dict) -> dict:
        from reliability.airflow.tasks.backup_verify import dump_and_verify as run

        return run(request)

    @task(trigger_rule="all_done")
    def publish_results(outcomes) -> dict:
        from reliability.airflow.tasks.backup_verify import publish_results as publish

        return publish(list(outcomes))

    @task(trigger_rule="all_done", outlets=[BACKUP_ALIAS])
    def announce_verified_backups(outcomes, *, outlet_events=None) -> list[str]:
        from reliability.airflow.assets import announce_verified_backups as announce

        return announce(list(outcomes), outlet_events)

    # The gate turns a published failure into a failed run: no retry (the verdict would not change).
    @task(retries=0)
    def check_outcomes(outcomes) -> str:
        from reliability.airflow.tasks import check_outcomes as check

        return check(list(outcomes))

    outcomes = dump_and_verify.expand(request=plan_backups())
    published = publish_results(outcomes)
    announce_verified_backups(outcomes)
    published >> check_outcomes(outcomes)


backup_verify()
