"""The Deadline Alert callback on its own: the message it builds and what it does with the Slack webhook.

Under the real scheduler and triggerer it is exercised in ``test_local_executor.py``; here it runs in this
process, where the triggerer's task-state lookup is not available (as when the lookup fails there).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from reliability.airflow.deadlines import notify_deadline_missed
from reliability.airflow.slack import SlackFailed
from reliability.core.slack import deadline_message, unfinished_tasks

DEADLINE = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
DAG_RUN = {
    "dag_id": "restore_test",
    "dag_run_id": "scheduled__2026-11-29T04:00:00+00:00",
    "state": "running",
    "queued_at": "2026-11-29T02:00:00Z",
    "conf": {"api_key": "s3cr3t-value"},
}
CONTEXT = {"dag_run": DAG_RUN, "deadline": {"id": "01a2", "deadline_time": DEADLINE.isoformat()}}


@pytest.fixture
def slack_conn(slack_receiver, monkeypatch):
    base, token = slack_receiver.url.split("/services/")
    monkeypatch.setenv(
        "AIRFLOW_CONN_RELIABILITY_SLACK",
        json.dumps({"conn_type": "slackwebhook", "host": f"{base}/services", "password": token}),
    )
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com")
    return token


def test_message_names_dag_run_unfinished_tasks_lateness_and_link():
    text, blocks = deadline_message(
        DAG_RUN,
        CONTEXT["deadline"],
        [("restore", "running"), ("validate", "none")],
        "https://airflow.example.com/dags/restore_test/runs/x",
        expected="finishes within 2 h of being queued",
        now=DEADLINE + timedelta(minutes=7, seconds=5),
    )
    assert text == (
        ":alarm_clock: restore_test missed its deadline in run scheduled__2026-11-29T04:00:00+00:00 "
        "(late by 7m 05s); not finished: restore (running), validate (none)"
    )
    fields = {f["text"] for b in blocks if b["type"] == "section" for f in b.get("fields", [])}
    assert {
        "*DAG*\nrestore_test",
        "*Run*\nscheduled__2026-11-29T04:00:00+00:00",
        "*Late by*\n7m 05s",
        "*Deadline*\n2026-11-29T04:00:00+00:00",
    } <= fields
    rendered = json.dumps(blocks)
    assert "Expected: finishes within 2 h of being queued" in rendered
    assert "<https://airflow.example.com/dags/restore_test/runs/x|Open the Airflow run>" in rendered


def test_message_never_carries_the_run_configuration():
    text, blocks = deadline_message(DAG_RUN, CONTEXT["deadline"], [], None)
    assert "s3cr3t-value" not in text + json.dumps(blocks)


def test_lateness_of_hours_is_given_in_hours_and_minutes():
    text, _ = deadline_message(
        DAG_RUN, CONTEXT["deadline"], [], None, now=DEADLINE + timedelta(hours=26, minutes=3)
    )
    assert "(late by 26h 03m)" in text


def test_long_task_lists_are_cut_to_the_first_eight():
    tasks = [(f"validate_shard_{i}", "queued") for i in range(11)]
    text, _ = deadline_message(DAG_RUN, CONTEXT["deadline"], tasks, None)
    assert "validate_shard_7 (queued), … and 3 more" in text
    assert "validate_shard_8" not in text


def test_finished_tasks_are_left_out_and_task_sdk_states_are_read_by_value():
    from airflow.sdk.api.datamodels._generated import TaskInstanceState

    states = {
        "choose_backup": TaskInstanceState.SUCCESS,
        "restore": TaskInstanceState.RUNNING,
        "validate": None,
        "sweep": "skipped",
        "check_outcomes": TaskInstanceState.UPSTREAM_FAILED,
    }
    assert unfinished_tasks(states) == [("restore", "running"), ("validate", "none")]


def test_callback_posts_to_slack_and_returns_a_string_when_task_states_cannot_be_read(
    slack_receiver, slack_conn
):
    result = asyncio.run(notify_deadline_missed(context=CONTEXT, expected="finishes by 04:00"))
    # Airflow stores the result in a text column; anything but a string takes the triggerer down.
    assert isinstance(result, str) and "sent to Slack" in result
    (message,) = slack_receiver.messages
    assert message["text"].startswith(
        ":alarm_clock: restore_test missed its deadline in run scheduled__2026-11-29T04:00:00+00:00"
    )
    assert "unknown (the task states could not be read; open the run)" in json.dumps(message["blocks"])
    assert (
        "https://airflow.example.com/dags/restore_test/runs/scheduled__2026-11-29T04%3A00%3A00%2B00%3A00"
        in json.dumps(message["blocks"])
    )


def test_slack_refusal_fails_the_callback_without_revealing_the_webhook(slack_receiver, slack_conn):
    slack_receiver.fail_next = [500]
    with pytest.raises(SlackFailed) as failed:
        asyncio.run(notify_deadline_missed(context=CONTEXT))
    assert slack_conn not in str(failed.value)
    assert slack_conn.split("/")[-1] not in str(failed.value)


def test_without_a_slack_connection_nothing_is_sent_and_the_result_says_why(slack_receiver, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_RELIABILITY_SLACK", raising=False)
    result = asyncio.run(notify_deadline_missed(context=CONTEXT))
    assert result.startswith("not sent: no reliability_slack connection")
    assert slack_receiver.messages == []


def test_a_run_that_already_failed_gets_no_deadline_message(slack_receiver, slack_conn):
    # Airflow keeps the deadline of a failed run; the task failure callback has reported it already.
    failed_run = {**DAG_RUN, "state": "failed"}
    result = asyncio.run(notify_deadline_missed(context={**CONTEXT, "dag_run": failed_run}))
    assert result.startswith(
        "not sent: restore_test run scheduled__2026-11-29T04:00:00+00:00 had already ended (failed)"
    )
    assert slack_receiver.messages == []
