"""End to end: pushed job metrics -> Prometheus rules -> Alertmanager -> Slack, on the real programs."""

from __future__ import annotations

import pytest
import requests

from tests.monitoring.alert_delivery import (
    alertmanager_alerts,
    assert_alert_delivered,
    delete_pushed_group,
    push_corrupt_backup_run,
    wait_until,
    wait_until_resolved,
)


@pytest.fixture
def corrupt_backup_run(pushgateway, prometheus_server, slack_receiver):
    """A corrupt backup run's metrics in the Pushgateway, from its first Slack message until it resolved."""
    group = push_corrupt_backup_run(pushgateway.url, database="platform")
    # Alertmanager sends nothing for an alert that resolves before its first notification, so
    # the teardown below could not wait for the resolved notice unless the firing one went out.
    assert_alert_delivered(prometheus_server.url, slack_receiver, "BackupNotVerified", group)
    yield group
    delete_pushed_group(pushgateway.url, group)
    wait_until_resolved(prometheus_server.url, slack_receiver, "BackupNotVerified", group)


def test_corrupt_backup_alert_fires_and_reaches_slack_and_email(
    prometheus_server, alertmanager_server, slack_receiver, smtp_sink, corrupt_backup_run
):
    message = assert_alert_delivered(
        prometheus_server.url,
        slack_receiver,
        "BackupNotVerified",
        corrupt_backup_run,
        contains=["Backup of platform failed verification", "monitoring/README.md#backupnotverified"],
    )
    assert message["channel"] == "#infra-alerts"
    assert "[FIRING:1] BackupNotVerified (critical)" in message["attachments"][0]["title"]

    mail = wait_until(
        lambda: next(
            (m for m in list(smtp_sink.messages) if "BackupNotVerified" in m and "platform" in m), None
        ),
        30,
        "the critical alert's e-mail",
    )
    assert "To: oncall@yourdomain.com" in mail

    # The webhook URL is a secret: Alertmanager read it from a file and shows or logs only that path.
    status = requests.get(f"{alertmanager_server.url}/api/v2/status", timeout=5).json()
    shown_config = status["config"]["original"]
    assert "secrets/slack_webhook_url" in shown_config
    assert slack_receiver.url not in shown_config
    assert slack_receiver.url not in alertmanager_server.log.read_text()


def test_failed_run_warning_is_inhibited_by_the_critical_backup_alert(
    prometheus_server, alertmanager_server, corrupt_backup_run
):
    def inhibited_warning():
        alerts = [
            a
            for a in alertmanager_alerts(alertmanager_server.url, "ReliabilityJobFailed")
            if a["labels"].get("database") == "platform"
        ]
        return alerts and alerts[0]["status"]["inhibitedBy"] and alerts[0]

    alert = wait_until(inhibited_warning, 30, "ReliabilityJobFailed to reach Alertmanager inhibited")
    assert alert["status"]["state"] == "suppressed"
    (inhibitor,) = [
        a
        for a in alertmanager_alerts(alertmanager_server.url, "BackupNotVerified")
        if a["labels"].get("database") == "platform"
    ]
    assert alert["status"]["inhibitedBy"] == [inhibitor["fingerprint"]]
