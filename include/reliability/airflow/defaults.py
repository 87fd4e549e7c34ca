"""What every DAG of the project shares: default task arguments, the failure callback, the deadline.

Imported by DAG files at parse time, so it imports nothing heavy at module level.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

OWNER = "reliability"


def notify_failure(context: dict[str, Any]) -> None:
    """Task failure callback: a Slack message naming DAG, task, run, the error and a link."""
    from reliability.airflow.connections import exists
    from reliability.airflow.context import run_url
    from reliability.airflow.slack import SlackFailed, SlackNotifier
    from reliability.core.scrub import scrub_text
    from reliability.core.slack import failure_blocks

    if not exists("reliability_slack"):
        return
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    run_id = getattr(ti, "run_id", "?")
    error = scrub_text(str(context.get("exception") or "unknown error"))[:500]
    url = run_url(context)
    text, blocks = failure_blocks(dag_id, task_id, run_id, getattr(ti, "try_number", "?"), error, url)
    try:
        SlackNotifier().send(text, blocks)
    except SlackFailed as exc:
        # A callback must not raise; the failure is in the task log.
        import logging

        logging.getLogger(__name__).error("failure notification not sent: %s", exc)


DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    # Overridable so that the local stack and tests (``airflow dags test`` waits out retry delays) run fast.
    "retries": int(os.environ.get("RELIABILITY_TASK_RETRIES", "2")),
    "retry_delay": timedelta(seconds=float(os.environ.get("RELIABILITY_RETRY_DELAY_SECONDS", "300"))),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(hours=2),
    "on_failure_callback": notify_failure,
}


def run_deadline(within: timedelta) -> Any:
    """A Deadline Alert: Slack when a run has not finished ``within`` of being queued.

    Counted from queue time: a manually triggered run has no logical date, so a deadline based on it
    would never apply. The callback runs in the triggerer (``reliability.airflow.deadlines``).

    ``RELIABILITY_DEADLINES=off`` leaves it out: Airflow 3.3.2's ``dag.test()`` (``airflow dags test``)
    crashes at the end of any run of a DAG with a deadline (``DagRun.update_state`` looks the DAG's
    alert definitions up as ids), so the test harness sets it. The scheduler path is unaffected.
    """
    if os.environ.get("RELIABILITY_DEADLINES", "on") == "off":
        return None
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    from reliability.airflow.deadlines import notify_deadline_missed

    hours = within.total_seconds() / 3600
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=within,
        callback=AsyncCallback(
            notify_deadline_missed, kwargs={"expected": f"finishes within {hours:g} h of being queued"}
        ),
    )
