"""What every DAG of the project shares: default task arguments, the failure callback, run identity.

Imported by DAG files at parse time, so it imports nothing heavy at module level.
"""
from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

OWNER = "reliability"


def notify_failure(context: dict[str, Any]) -> None:
    """Task failure callback: a Slack message naming DAG, task, run, the error and a link."""
    from reliability.adapters.slack import SlackFailed, SlackNotifier, scrub
    from reliability.connections import exists

    if not exists("reliability_slack"):
        return
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    run_id = getattr(ti, "run_id", "?")
    error = scrub(str(context.get("exception") or "unknown error"))[:500]
    url = run_url(context)
    text = f":rotating_light: {dag_id}.{task_id} failed in run {run_id}: {error}"
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{dag_id} — task failed"[:150]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*DAG*\n{dag_id}"},
                                       {"type": "mrkdwn", "text": f"*Task*\n{task_id}"},
                                       {"type": "mrkdwn", "text": f"*Run*\n{run_id}"},
                                       {"type": "mrkdwn", "text": f"*Try*\n{getattr(ti, 'try_number', '?')}"}]},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"```{error}```"}},
    ]
    if url:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{url}|Open the Airflow run>"}]})
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


def run_url(context: dict[str, Any]) -> str | None:
    """Link to the run in the Airflow UI (``[api] base_url``)."""
    from urllib.parse import quote

    ti = context.get("ti")
    if ti is None:
        return None
    base = os.environ.get("AIRFLOW__API__BASE_URL")
    if not base:
        try:
            from airflow.configuration import conf

            base = conf.get("api", "base_url", fallback="http://localhost:8080")
        except Exception:
            base = "http://localhost:8080"
    return f"{base.rstrip('/')}/dags/{quote(ti.dag_id)}/runs/{quote(ti.run_id)}"


def interval_key(context: dict[str, Any]) -> str:
    """A stable key of the run's data interval, so a rerun of the same interval replaces its rows.

    Scheduled runs have a data interval; a manual run without one is keyed by its run id.
    """
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is not None and end is not None:
        return f"{start.isoformat()}/{end.isoformat()}"
    logical = context.get("logical_date")
    if logical is not None:
        return logical.isoformat()
    return str(context["run_id"])


def current_context_info() -> dict[str, Any]:
    from airflow.sdk import get_current_context

    context = get_current_context()
    params = context.get("params") or {}
    return {"interval_key": interval_key(context), "logical_date": context.get("logical_date"),
            "run_url": run_url(context), "notify_success": params.get("notify_success", True)}


def run_deadline(within: timedelta) -> Any:
    """A Deadline Alert: Slack when a run has not finished ``within`` of being queued.

    Counted from queue time: a manually triggered run has no logical date, so a deadline based on it
    would never apply. The callback runs in the triggerer (``reliability.deadlines``).

    ``RELIABILITY_DEADLINES=off`` leaves it out: Airflow 3.3.2's ``dag.test()`` (``airflow dags test``)
    crashes at the end of any run of a DAG with a deadline (``DagRun.update_state`` looks the DAG's
    alert definitions up as ids), so the test harness sets it. The scheduler path is unaffected.
    """
    if os.environ.get("RELIABILITY_DEADLINES", "on") == "off":
        return None
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    from reliability.deadlines import notify_deadline_missed

    hours = within.total_seconds() / 3600
    return DeadlineAlert(reference=DeadlineReference.DAGRUN_QUEUED_AT, interval=within,
                         callback=AsyncCallback(notify_deadline_missed,
                                                kwargs={"expected": f"finishes within {hours:g} h of being queued"}))
