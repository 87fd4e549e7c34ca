"""Weekly restore test: restore the newest verified backup into a scratch database and prove it equals the dump.

Every Sunday at 04:00 UTC, for the chosen database (`include/config/restore.yaml`):

1. **Choose the backup**: the newest `verified` dump (from backup_verify's rows in the results store, or
   its manifests in S3), or the one named in `backup_key`. None within the RPO window is a failure and
   an alert, never a silent skip. Before anything else the run refuses to go on when the scratch
   connection points at the source database (same host, port and name).
2. **Download and check**: stream the dump down and compare its size and SHA-256 with the manifest;
   a corrupt or replaced object is never restored.
3. **Create the scratch database** `restore_test_<db>_<yyyymmddhhmm>` on `reliability_scratch_db`.
4. **Restore** with `pg_restore -j N --exit-on-error`; a restore that dies names the table it died on.
5. **Validate**, per table: the same ordered columns, exact row counts and order-independent content
   digests equal to the manifest's (which catch values changed silently on the way), a Great
   Expectations suite (row count, columns, primary key unique and not null, plus the checks in
   `include/config/expectations.yaml`); and `pg_amcheck` on the whole database.
6. **Drop the scratch database** (a teardown: it runs whatever happened; `keep_scratch_on_failure`
   keeps a failed one for debugging, and the sweeper removes leftovers older than a day).
7. **Publish**: results store (`reliability.restore_tests`, per-table rows, GX results), Pushgateway
   (`restore_*` gauges per `database`), Slack, a `restore.test` line in `backup-monitor.log`. The run
   fails when the test failed; an RTO or RPO breach is a warning and an alert.

RTO = download + create + pg_restore time; RPO = age of the restored backup's snapshot at the start.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task

from reliability.airflow.defaults import DEFAULT_ARGS, run_deadline
from reliability.restore.config import load_config

CONFIG = load_config()
DATABASES = [db.name for db in CONFIG.databases]


@dag(
    dag_id="restore_test",
    description=__doc__.partition(".")[0],
    doc_md=__doc__,
    schedule="0 4 * * 0",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    deadline=run_deadline(timedelta(hours=2)),
    tags=["reliability", "backup", "restore", "postgres"],
    params={
        "database": Param(
            DATABASES[0],
            type="string",
            enum=DATABASES,
            title="Database",
            description="Which configured database's backup to restore.",
        ),
        "backup_key": Param(
            None,
            type=["null", "string"],
            maxLength=1024,
            title="Backup (S3 key)",
            description="Restore this dump instead of the newest verified one; it must be a "
            "verified backup of the database. Leave empty for the newest.",
        ),
        "jobs": Param(
            CONFIG.jobs,
            type="integer",
            minimum=1,
            maximum=16,
            title="Parallel restore jobs",
            description="pg_restore --jobs (and pg_amcheck --jobs) on the scratch server.",
        ),
        "keep_scratch_on_failure": Param(
            CONFIG.keep_on_failure,
            type="boolean",
            title="Keep scratch on failure",
            description="Keep the scratch database when the test fails, for "
            "debugging; the sweeper drops it after a day.",
        ),
        "notify_success": Param(
            True,
            type="boolean",
            title="Slack success line",
            description="Also post to Slack when the restore test passes.",
        ),
    },
)
def restore_test():
    @task
    def sweep_scratch_databases(**context) -> dict:
        from reliability.airflow.tasks import restore_test as tasks

        return tasks.sweep(context)

    @task
    def choose_backup(**context) -> dict:
        from reliability.airflow.tasks import restore_test as tasks

        return tasks.choose_backup(context)

    @task
    def download_and_check(state: dict) -> dict:
        from reliability.airflow.tasks import restore_test as tasks

        return tasks.download_and_check(state)

    @task
    def create_scratch_database(state: dict) -> dict:
        from reliability.airflow.tasks import restore_test as tasks

        return tasks.create_scratch_database(state)

    @task
    def restore(state: dict) -> dict:
        from reliability.airflow.tasks import restore_test as tasks

        return tasks.restore(state)

    @task
    def validate(state: dict) -> dict:
        from reliability.airflow.tasks import restore_test as tasks

        return tasks.validate(state)

    @task
    def drop_scratch_database(created: dict | None, validated: dict | None) -> dict | None:
        from reliability.airflow.tasks import restore_test as tasks

        return tasks.drop_scratch_database(created, validated)

    # Not fed by the setup task itself (Airflow wants ALL_SUCCESS right after a setup): the teardown's
    # result stands in for it, since the teardown runs exactly when the scratch database was created.
    @task(trigger_rule="all_done")
    def publish_results(chosen, downloaded, restored, validated, dropped, **context) -> dict:
        from reliability.airflow.tasks import restore_test as tasks

        return tasks.publish_results(chosen, downloaded, restored, validated, dropped, context)

    # The gate only turns an already published (and alerted) failure into a failed run: no retry, and no
    # second Slack message from the failure callback.
    @task(retries=0, on_failure_callback=None)
    def check_outcomes(published: dict) -> str:
        from reliability.airflow.tasks import check_outcomes as check

        return check([published])

    chosen = choose_backup()
    downloaded = download_and_check(chosen)
    created = create_scratch_database(downloaded)
    restored = restore(created)
    validated = validate(restored)
    dropped = drop_scratch_database(created, validated).as_teardown(setups=created)
    published = publish_results(chosen, downloaded, restored, validated, dropped)
    check_outcomes(published)
    sweep_scratch_databases()


restore_test()
