import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from reliability.airflow.slack import SlackFailed, SlackNotifier
from reliability.core.outcome import Outcome
from reliability.core.slack import outcome_blocks


@pytest.fixture
def slack_conn(slack_receiver, monkeypatch):
    base, token = slack_receiver.url.split("/services/")
    monkeypatch.setenv(
        "AIRFLOW_CONN_RELIABILITY_SLACK",
        json.dumps({"conn_type": "slackwebhook", "host": f"{base}/services", "password": token}),
    )
    return token


def outcome(status="failed", alert=True):
    now = datetime(2026, 11, 29, 2, tzinfo=UTC)
    return Outcome(
        "backup_verify",
        {"database": "platform"},
        status,
        now,
        now + timedelta(seconds=42),
        "Backup of platform is corrupt",
        facts=(("Size", "1.2 GB"), ("Reason", "truncated")),
        alert=alert,
    )


def test_message_is_accepted_as_block_kit(slack_receiver, slack_conn):
    text, blocks = outcome_blocks([outcome()], "http://airflow.example/dags/backup_verify/runs/r1")
    SlackNotifier().send(text, blocks)
    assert len(slack_receiver.messages) == 1
    message = slack_receiver.messages[0]
    assert message["blocks"][0]["type"] == "header"
    assert "corrupt" in message["text"]
    assert any("Open the Airflow run" in json.dumps(b) for b in message["blocks"])


def test_rate_limited_message_is_retried_after_retry_after(slack_receiver, slack_conn):
    slack_receiver.rate_limit_next = 2
    slack_receiver.retry_after = 1
    SlackNotifier().send("hello")
    assert [m["text"] for m in slack_receiver.messages] == ["hello"]
    assert slack_receiver.requests == 3


def test_bad_request_is_a_clear_error_without_the_webhook_url(slack_receiver, slack_conn, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SlackFailed) as info:
        SlackNotifier().send("x", blocks=[{"no_type": True}])
    assert "invalid_blocks" in str(info.value) and "400" in str(info.value)
    secret = slack_conn.split("/")[-1]
    assert secret not in str(info.value)
    assert all(secret not in r.getMessage() for r in caplog.records)
    assert slack_receiver.messages == []


def test_unknown_webhook_is_a_clear_error(slack_receiver, monkeypatch):
    base = slack_receiver.url.split("/services/")[0]
    monkeypatch.setenv(
        "AIRFLOW_CONN_RELIABILITY_SLACK",
        json.dumps(
            {"conn_type": "slackwebhook", "host": f"{base}/services", "password": "T1/B1/wrongtoken123"}
        ),
    )
    with pytest.raises(SlackFailed, match="no_service") as info:
        SlackNotifier().send("x")
    assert "wrongtoken123" not in str(info.value)
