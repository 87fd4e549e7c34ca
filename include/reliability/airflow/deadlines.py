"""Deadline Alerts: a Slack message when a DAG run is still not finished at its deadline.

A DAG declares the deadline (Airflow 3.1+)::

    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference
    from reliability.airflow.deadlines import notify_deadline_missed

    @dag(..., deadline=DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT, interval=timedelta(hours=2),
        callback=AsyncCallback(notify_deadline_missed, kwargs={"expected": "finishes within 2 h of being queued"})))

The scheduler notices the missed deadline and the triggerer awaits :func:`notify_deadline_missed` with a
small context (``dag_run``: the run as the REST API shows it, ``deadline``: its id and time). The callback
asks the triggerer which tasks are not finished, so the message names the DAG, the task(s), the run and a
link. A run that succeeds before its deadline has the deadline removed; a run that fails keeps it, but
gets no deadline message: its failure was already reported by the task failure callback.

Imported at DAG parse time: nothing heavy at module level.
"""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any

log = logging.getLogger(__name__)

TASK_STATES_TIMEOUT_SECONDS = 30.0


def _task_states(dag_id: str, run_id: str) -> dict[str, Any]:
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    return RuntimeTaskInstance.get_task_states(dag_id=dag_id, run_ids=[run_id]).get(run_id, {})


def _unfinished_within(dag_id: str, run_id: str, timeout: float) -> list[tuple[str, str]] | None:
    from concurrent.futures import ThreadPoolExecutor

    from reliability.core.slack import unfinished_tasks

    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return unfinished_tasks(pool.submit(_task_states, dag_id, run_id).result(timeout=timeout))
    except Exception as exc:
        # The alert matters more than its detail: it goes out without the task list.
        log.warning(
            "could not read the task states of %s run %s: %s", dag_id, run_id, str(exc) or type(exc).__name__
        )
        return None
    finally:
        pool.shutdown(wait=False)


def _send(context: dict[str, Any], expected: str | None) -> str:
    from reliability.airflow.connections import exists
    from reliability.airflow.context import run_url
    from reliability.airflow.slack import SlackNotifier
    from reliability.core.slack import deadline_message

    dag_run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    dag_id = dag_run.get("dag_id", "?")
    run_id = dag_run.get("dag_run_id") or dag_run.get("run_id") or "?"
    if dag_run.get("state") in ("success", "failed"):
        # Only a failed run keeps its deadline (success removes it); its failure was reported already.
        return f"not sent: {dag_id} run {run_id} had already ended ({dag_run['state']})"
    if not exists("reliability_slack"):
        log.warning(
            "deadline of %s run %s missed, but no reliability_slack connection is set", dag_id, run_id
        )
        return f"not sent: no reliability_slack connection ({dag_id} run {run_id})"
    unfinished = _unfinished_within(dag_id, run_id, TASK_STATES_TIMEOUT_SECONDS)
    # run_url only reads the ids from a task instance; the run is all a deadline has.
    url = run_url({"ti": SimpleNamespace(dag_id=dag_id, run_id=run_id)})
    text, blocks = deadline_message(dag_run, deadline, unfinished, url, expected)
    SlackNotifier().send(text, blocks)
    tasks = "unknown" if unfinished is None else ", ".join(task for task, _ in unfinished) or "none"
    return f"sent to Slack: {dag_id} run {run_id}, not finished: {tasks}"


async def notify_deadline_missed(
    context: dict[str, Any] | None = None, expected: str | None = None, **_: Any
) -> str:
    """Deadline Alert callback (``AsyncCallback``, run by the triggerer): post the missed deadline to Slack.

    ``expected`` is the promise in words (``"finishes within 2 h of being queued"``). The blocking work runs
    in a thread so the triggerer's event loop, shared with every other trigger, never waits on Slack.
    A Slack failure raises, so the callback is recorded as failed (the message is scrubbed of the webhook).
    The result must be a string: Airflow stores it in a text column, and on PostgreSQL any other type
    (a dict, say) makes that update fail and takes the triggerer down with it (Airflow 3.3.2).
    """
    return await asyncio.to_thread(_send, context or {}, expected)
