"""Slack Block Kit for every message the jobs send: run outcomes, task failures, missed deadlines.

Pure functions (text and blocks in, nothing sent): :class:`reliability.airflow.slack.SlackNotifier` sends
them. Anything that comes from data (a tenant slug, an object key) is escaped with :func:`mrkdwn_escape`
before it is placed in mrkdwn.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reliability.core.formatting import format_duration
from reliability.core.outcome import Outcome

STATUS_EMOJI = {"success": ":white_check_mark:", "warning": ":warning:", "failed": ":rotating_light:"}


def mrkdwn_escape(text: str) -> str:
    """Text from data, safe inside Slack mrkdwn (Slack's three control characters)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def run_link(url: str | None) -> list[dict[str, Any]]:
    if not url:
        return []
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{url}|Open the Airflow run>"}]}]


def outcome_blocks(outcomes: list[Outcome], run_url: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Block Kit for one run: a headline per outcome with its status, its facts, and the run link."""
    worst = (
        "failed"
        if any(o.status == "failed" for o in outcomes)
        else ("warning" if any(o.status == "warning" or o.alert for o in outcomes) else "success")
    )
    job = outcomes[0].job if outcomes else "reliability"
    text = f"{STATUS_EMOJI[worst]} {job}: " + "; ".join(o.headline for o in outcomes)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "emoji": True, "text": f"{job} — {worst}"[:150]}}
    ]
    for outcome in outcomes[:20]:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"{STATUS_EMOJI[outcome.status]} *{outcome.headline}*"[:3000],
                },
            }
        )
        if outcome.facts:
            blocks.append(
                {
                    "type": "section",
                    "fields": [
                        {"type": "mrkdwn", "text": f"*{name}*\n{value}"[:2000]}
                        for name, value in outcome.facts[:10]
                    ],
                }
            )
        if outcome.detail:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": outcome.detail[:3000]}})
    if len(outcomes) > 20:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"… and {len(outcomes) - 20} more"}]}
        )
    blocks += run_link(run_url)
    return text[:3000], blocks


def failure_blocks(
    dag_id: str, task_id: str, run_id: str, try_number: Any, error: str, url: str | None
) -> tuple[str, list[dict[str, Any]]]:
    """A task that failed: DAG, task, run, try, the (scrubbed) error and a link.

    The error and run id come from outside (exception texts, a run id typed in the trigger form):
    Slack's control characters in them are escaped, so ``<...>`` can never become a link or mention.
    """
    run_id, error = mrkdwn_escape(str(run_id)), mrkdwn_escape(error)
    text = f":rotating_light: {dag_id}.{task_id} failed in run {run_id}: {error}"
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{dag_id} — task failed"[:150]}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*DAG*\n{dag_id}"},
                {"type": "mrkdwn", "text": f"*Task*\n{task_id}"},
                {"type": "mrkdwn", "text": f"*Run*\n{run_id}"},
                {"type": "mrkdwn", "text": f"*Try*\n{try_number}"},
            ],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": f"```{error}```"}},
        *run_link(url),
    ]
    return text[:3000], blocks


FINISHED_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
_MAX_TASKS_NAMED = 8


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
    return format_duration((now - deadline_time).total_seconds())


def _state_name(state: Any) -> str:
    # The Task SDK hands back its generated enum, whose str() is "TaskInstanceState.RUNNING".
    return str(getattr(state, "value", state) or "none")


def unfinished_tasks(task_states: dict[str, Any]) -> list[tuple[str, str]]:
    """``(task, state)`` of the tasks not yet finished, from ``{task_id or task_id_mapindex: state}``."""
    named = ((task, _state_name(state)) for task, state in task_states.items())
    return sorted((task, state) for task, state in named if state not in FINISHED_STATES)


def deadline_message(
    dag_run: dict[str, Any],
    deadline: dict[str, Any],
    unfinished: list[tuple[str, str]] | None,
    url: str | None,
    expected: str | None = None,
    now: datetime | None = None,
) -> tuple[str, list[dict[str, Any]]]:
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
    text = (
        f":alarm_clock: {dag_id} missed its deadline in run {run_id} (late by {late}); not finished: {tasks}"
    )
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
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Expected: {expected}"[:300]}]}
        )
    blocks += run_link(url)
    return text[:3000], blocks
