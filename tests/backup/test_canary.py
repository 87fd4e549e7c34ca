"""Issue 19, backup canary: every new dump also proves the verifier can still say corrupt."""

import json
import urllib.request
from dataclasses import replace

import pytest

from reliability.adapters.pushgateway import PushgatewayConfig
from reliability.backup.canary import CANARY_BYTES
from reliability.backup.models import BackupRequest
from reliability.backup.outcome import to_outcome
from reliability.backup.run import execute, run
from reliability.backup.verdict import Verdict
from reliability.core.publish import PublishTargets, publish
from tests.backup.faults import FailingS3, PartFailure


class WebhookNotifier:
    """Posts to the fake Slack webhook as the Slack provider's hook would."""

    def __init__(self, url):
        self.url = url

    def send(self, text, blocks=None):
        body = json.dumps({"text": text, "blocks": blocks or []}).encode()
        urllib.request.urlopen(urllib.request.Request(self.url, body, {"Content-Type": "application/json"}))


def request(**kwargs) -> BackupRequest:
    return BackupRequest(**{"database": "platform", "interval_key": "canary-1", **kwargs})


def metrics_of(outcome) -> dict[str, float]:
    return {m.name: m.value for m in outcome.metrics}


@pytest.mark.parametrize("fmt", ["custom", "directory"])
def test_a_truncated_copy_of_the_nights_dump_is_judged_corrupt(config, targets, fmt):
    result = execute(request(format=fmt), config, targets)
    assert result.verdict.verdict == "verified", result.verdict.reasons
    canary = result.canary
    assert canary.ok is True and canary.verdict == "corrupt" and canary.reasons
    summary = result.summary()["canary"]
    assert summary["ok"] is True and 0 < summary["share_of_run"] < 1 and summary["seconds"] > 0
    outcome = to_outcome(result)
    assert outcome.status == "success" and metrics_of(outcome)["reliability_verifier_canary_ok"] == 1
    assert dict(outcome.facts)["Canary"].startswith("caught: corrupt on its first ")


def test_the_canary_reads_at_most_a_megabyte_of_the_dump(padded_dsn, config, targets, s3_client):
    ranges = []

    class Recording(FailingS3):
        def get_object(self, **kwargs):
            ranges.append(kwargs.get("Range"))
            return s3_client.get_object(**kwargs)

    result = execute(
        request(compression=0),
        config,
        replace(targets, source_dsn=padded_dsn, s3=Recording(s3_client, fail_part=0)),
    )
    assert result.size_bytes > 2 * CANARY_BYTES and result.canary.ok is True
    assert ranges == [f"bytes=0-{CANARY_BYTES - 1}"]


def test_a_canary_that_passes_fails_the_run_critically_and_sets_the_gauge_to_0(
    monkeypatch, config, targets, pushgateway, slack_receiver, tmp_path
):
    # A verifier broken so that it says "verified" to everything.
    monkeypatch.setattr("reliability.backup.canary.verify_bytes", lambda *args, **kwargs: Verdict("verified"))
    outcome = run(request(), config, targets)
    assert outcome.summary["verdict"] == "verified"  # the dump itself is good: only the canary is stubbed
    assert outcome.status == "failed" and outcome.alert
    assert outcome.headline.startswith(
        "CRITICAL: the backup verifier did not catch a damaged copy of platform"
    )
    assert metrics_of(outcome)["reliability_verifier_canary_ok"] == 0
    assert dict(outcome.facts)["Canary"].startswith("PASSED (must be corrupt): verified on its first ")

    publish(
        [outcome],
        PublishTargets(
            targets.results_dsn,
            PushgatewayConfig(pushgateway.url),
            WebhookNotifier(slack_receiver.url),
            tmp_path / "backup-monitor.log",
            interval_key="canary-1",
            notify_success=False,
        ),
    )
    text = urllib.request.urlopen(f"{pushgateway.url}/metrics").read().decode()
    assert 'reliability_verifier_canary_ok{database="platform",instance="",job="backup_verify"} 0' in text
    assert 'reliability_job_success{database="platform",instance="",job="backup_verify"} 0' in text
    (message,) = slack_receiver.messages
    assert "CRITICAL: the backup verifier did not catch" in json.dumps(message)

    from reliability.airflow.errors import JobFailed
    from reliability.airflow.tasks import check_outcomes

    with pytest.raises(JobFailed, match="CRITICAL"):
        check_outcomes([outcome.to_dict()])


def test_a_canary_that_cannot_read_the_dump_warns_and_pushes_no_gauge(config, targets, s3_client):
    class NoRangedReads(FailingS3):
        def get_object(self, **kwargs):
            if "Range" in kwargs:
                raise PartFailure("injected: ranged GET refused")
            return s3_client.get_object(**kwargs)

    result = execute(request(), config, replace(targets, s3=NoRangedReads(s3_client, fail_part=0)))
    assert result.verdict.verdict == "verified" and result.canary.ok is None
    assert "ranged GET refused" in result.canary.error
    outcome = to_outcome(result)
    assert outcome.status == "warning" and outcome.alert
    assert "reliability_verifier_canary_ok" not in metrics_of(outcome)
    assert dict(outcome.facts)["Canary"].startswith("not checked: could not read s3://")


def test_verify_only_runs_have_no_canary_and_leave_its_gauge_alone(config, targets):
    made = execute(request(), config, targets)
    checked = execute(request(verify_only_key=made.dump_key, interval_key="manual-c"), config, targets)
    assert checked.verdict.verdict == "verified" and checked.canary is None
    assert "reliability_verifier_canary_ok" not in metrics_of(to_outcome(checked))
