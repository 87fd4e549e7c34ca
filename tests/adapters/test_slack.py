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


_PUBLISH_WITH_SLACK_DOWN = """
import logging, sys
from datetime import UTC, datetime
from reliability.airflow.slack import SlackNotifier
from reliability.core.outcome import Outcome
from reliability.core.publish import PublishIncomplete, PublishTargets, publish

logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
logging.getLogger().addHandler(logging.StreamHandler(sys.stdout))
now = datetime.now(UTC)
outcome = Outcome("sla_uptime", {}, "failed", now, now, "SLA report failed", alert=True)
targets = PublishTargets(results_dsn=None, pushgateway=None, slack=SlackNotifier(), log_path=sys.argv[1])
try:
    publish([outcome], targets)
except PublishIncomplete as exc:
    print("raised:", exc)
    logging.getLogger("test").exception("publish failed")
"""


def test_the_webhook_token_reaches_no_output_when_slack_is_down(tmp_path):
    """slack_sdk's retry handler logs ``POST <webhook url>``: no stream may show the token."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from stack.processes import free_port

    root = Path(__file__).resolve().parents[2]
    token = "T0SECRET1/B0SECRET2/tokenNeverPrinted42"
    env = {
        **os.environ,
        "PYTHONPATH": f"{root / 'include'}:{root}",
        "AIRFLOW_CONN_RELIABILITY_SLACK": json.dumps(
            {
                "conn_type": "slackwebhook",
                "host": f"http://127.0.0.1:{free_port()}/services",
                "password": token,
            }
        ),
    }
    log_file = tmp_path / "backup-monitor.log"
    run = subprocess.run(
        [sys.executable, "-c", _PUBLISH_WITH_SLACK_DOWN, str(log_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    outputs = {"stdout": run.stdout, "stderr": run.stderr, "log": log_file.read_text()}
    assert "Going to retry the same request" in run.stdout + run.stderr  # the path that leaked was taken
    assert "raised:" in run.stdout and '"status": "failed"' in outputs["log"]
    for part in ("tokenNeverPrinted42", "T0SECRET1", "B0SECRET2"):
        leaked = [name for name, text in outputs.items() if part in text]
        assert not leaked, f"{part} printed in {leaked}"


def test_the_fake_slack_log_holds_no_webhook_url(tmp_path):
    import urllib.error
    import urllib.request

    from stack.processes import free_port, stop_process
    from stack.services import start_fake_slack

    token = "TFAKE1/BFAKE2/fakeTokenNeverLogged7"
    port = free_port()
    base = start_fake_slack(tmp_path, port, token)
    try:
        for path in (f"/services/{token}", "/services/TX/BX/wrongTokenNeverLogged"):
            request = urllib.request.Request(f"{base}{path}", data=b'{"text": "hi"}', method="POST")
            try:
                urllib.request.urlopen(request, timeout=10).read()
            except urllib.error.HTTPError as exc:
                assert exc.code == 404
    finally:
        stop_process("slack", tmp_path)
    log = (tmp_path / "slack.log").read_text()
    assert f"127.0.0.1:{port}/services/[REDACTED]" in log
    assert "fakeTokenNeverLogged7" not in log and "TFAKE1" not in log and "wrongTokenNeverLogged" not in log


def test_a_failed_task_message_escapes_the_error_and_run_id():
    from reliability.core.slack import failure_blocks

    text, blocks = failure_blocks(
        "sla_uptime", "fetch", "manual__<!channel>", 1, "bad tenant <script>&<@U123>", None
    )
    rendered = text + json.dumps(blocks)
    assert "<!channel>" not in rendered and "<@U123>" not in rendered and "<script>" not in rendered
    assert "&lt;script&gt;&amp;&lt;@U123&gt;" in blocks[2]["text"]["text"]
    assert "manual__&lt;!channel&gt;" in blocks[1]["fields"][2]["text"]
