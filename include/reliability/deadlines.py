"""Deadline Alerts: a Slack message when a DAG run is still not finished at its deadline.

A DAG declares the deadline (Airflow 3.1+)::

    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference
    from reliability.deadlines import notify_deadline_missed

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
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

log = logging.getLogger(__name__)

FINISHED_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
_MAX_TASKS_NAMED = 8
# The triggerer answers a task-state lookup through its supervisor (seconds, not milliseconds); a lookup
# that hangs must not hold back the alert itself.
TASK_STATES_TIMEOUT_SECONDS = 30.0


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _late_by(deadline_time: datetime | None, now: datetime) -> str:
    if deadline_time is None:
        return "unknown"
    seconds = max(0, int((now - deadline_time).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def _state_name(state: Any) -> str:
    # The Task SDK hands back its generated enum, whose str() is "TaskInstanceState.RUNNING".
    return str(getattr(state, "value", state) or "none")


def unfinished_tasks(task_states: dict[str, Any]) -> list[tuple[str, str]]:
    """``(task, state)`` of the tasks not yet finished, from ``{task_id or task_id_mapindex: state}``."""
    named = ((task, _state_name(state)) for task, state in task_states.items())
    return sorted((task, state) for task, state in named if state not in FINISHED_STATES)


def deadline_message(dag_run: dict[str, Any], deadline: dict[str, Any], unfinished: list[tuple[str, str]] | None,
                     url: str | None, expected: str | None = None,
                     now: datetime | None = None) -> tuple[str, list[dict[str, Any]]]:
    """Slack text and Block Kit blocks for a missed deadline. Carries no run configuration (it may hold secrets).

    ``unfinished`` is None when the task states could not be read.
    """
    now = now or datetime.now(UTC)
    dag_id = dag_run.get("dag_id", "?")
    run_id = dag_run.get("dag_run_id") or dag_run.get("run_id") or "?"
    deadline_time = _as_datetime(deadline.get("deadline_time"))
    late = _late_by(deadline_time, now)
    if unfinished is None:
        tasks = "unknown (the task states could not be read; open the run)"
    else:
        named = [f"{task} ({state})" for task, state in unfinished[:_MAX_TASKS_NAMED]]
        if len(unfinished) > _MAX_TASKS_NAMED:
            named.append(f"… and {len(unfinished) - _MAX_TASKS_NAMED} more")
        tasks = ", ".join(named) or "none"
    text = f":alarm_clock: {dag_id} missed its deadline in run {run_id} (late by {late}); not finished: {tasks}"
    fields = [
        {"type": "mrkdwn", "text": f"*DAG*\n{dag_id}"},
        {"type": "mrkdwn", "text": f"*Run*\n{run_id}"},
        {"type": "mrkdwn", "text": f"*Deadline*\n{deadline_time.isoformat() if deadline_time else '?'}"},
        {"type": "mrkdwn", "text": f"*Late by*\n{late}"},
        {"type": "mrkdwn", "text": f"*Run state*\n{dag_run.get('state', '?')}"},
        {"type": "mrkdwn", "text": f"*Queued at*\n{dag_run.get('queued_at') or '?'}"},
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{dag_id} — deadline missed"[:150]}},
        {"type": "section", "fields": fields},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Tasks not finished*\n{tasks}"[:3000]}},
    ]
    if expected:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Expected: {expected}"[:300]}]})
    if url:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{url}|Open the Airflow run>"}]})
    return text[:3000], blocks


def _task_states(dag_id: str, run_id: str) -> dict[str, Any]:
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    return RuntimeTaskInstance.get_task_states(dag_id=dag_id, run_ids=[run_id]).get(run_id, {})


def _unfinished_within(dag_id: str, run_id: str, timeout: float) -> list[tuple[str, str]] | None:
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return unfinished_tasks(pool.submit(_task_states, dag_id, run_id).result(timeout=timeout))
    except Exception as exc:
        # The alert matters more than its detail: it goes out without the task list.
        log.warning("could not read the task states of %s run %s: %s", dag_id, run_id,
                    str(exc) or type(exc).__name__)
        return None
    finally:
        pool.shutdown(wait=False)


def _send(context: dict[str, Any], expected: str | None) -> str:
    from reliability.adapters.slack import SlackNotifier
    from reliability.connections import exists
    from reliability.dag_defaults import run_url

    dag_run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    dag_id = dag_run.get("dag_id", "?")
    run_id = dag_run.get("dag_run_id") or dag_run.get("run_id") or "?"
    if dag_run.get("state") in ("success", "failed"):
        # Only a failed run keeps its deadline (success removes it); its failure was reported already.
        return f"not sent: {dag_id} run {run_id} had already ended ({dag_run['state']})"
    if not exists("reliability_slack"):
        log.warning("deadline of %s run %s missed, but no reliability_slack connection is set", dag_id, run_id)
        return f"not sent: no reliability_slack connection ({dag_id} run {run_id})"
    unfinished = _unfinished_within(dag_id, run_id, TASK_STATES_TIMEOUT_SECONDS)
    # run_url only reads the ids from a task instance; the run is all a deadline has.
    url = run_url({"ti": SimpleNamespace(dag_id=dag_id, run_id=run_id)})
    text, blocks = deadline_message(dag_run, deadline, unfinished, url, expected)
    SlackNotifier().send(text, blocks)
    tasks = "unknown" if unfinished is None else ", ".join(task for task, _ in unfinished) or "none"
    return f"sent to Slack: {dag_id} run {run_id}, not finished: {tasks}"


async def notify_deadline_missed(context: dict[str, Any] | None = None, expected: str | None = None,
                                 **_: Any) -> str:
    """Deadline Alert callback (``AsyncCallback``, run by the triggerer): post the missed deadline to Slack.

    ``expected`` is the promise in words (``"finishes within 2 h of being queued"``). The blocking work runs
    in a thread so the triggerer's event loop, shared with every other trigger, never waits on Slack.
    A Slack failure raises, so the callback is recorded as failed (the message is scrubbed of the webhook).
    The result must be a string: Airflow stores it in a text column, and on PostgreSQL any other type
    (a dict, say) makes that update fail and takes the triggerer down with it (Airflow 3.3.2).
    """
    return await asyncio.to_thread(_send, context or {}, expected)
