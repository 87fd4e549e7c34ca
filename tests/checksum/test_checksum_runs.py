"""Whole runs published to the real Pushgateway, Slack faked: narrowed runs and refused Params (issue 15)."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from reliability.adapters.pushgateway import PushgatewayConfig
from reliability.airflow.tasks.checksum_validation import plan_checks
from reliability.checksum import run
from reliability.checksum.config import ConfigError, load_config, narrow
from reliability.core.publish import PublishTargets, publish

T0 = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


class Slack:
    """The fake Slack: records what would have been posted."""

    def __init__(self):
        self.messages: list[str] = []

    def send(self, text: str, blocks=None) -> None:
        self.messages.append(text)


def run_and_publish(dsn, client, bucket, config, interval_key, gateway, log, *, input_error=None):
    slack = Slack()
    if not input_error:
        for shard in run.plan(dsn, client, bucket, config, interval_key, full=True, now=T0):
            run.validate_shard(dsn, client, bucket, config, interval_key, shard["shard"])
    outcomes = run.summarise(dsn, interval_key, now=T0 + timedelta(minutes=5), input_error=input_error)
    targets = PublishTargets(dsn, PushgatewayConfig(gateway.url), slack, log, interval_key=interval_key)
    publish(outcomes, targets)
    return outcomes, slack.messages


def pushed(gateway, name: str, **labels: str) -> dict[str, float]:
    """Values of ``name`` by their ``scope`` label ("" for the bucket-wide group), summed over other labels."""
    import re

    text = urllib.request.urlopen(f"{gateway.url}/metrics").read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if found.get("job") == "checksum_validation" and all(
                found.get(k) == v for k, v in labels.items()
            ):
                scope = found.get("scope", "")
                out[scope] = out.get(scope, 0.0) + float(line.rsplit(" ", 1)[1])
    return out


@pytest.mark.parametrize("prefix", ["../", "/uploads/", "uploads/../backups/", "uploads//x", "./uploads/"])
def test_a_prefix_that_is_not_a_key_prefix_is_a_clear_error(prefix):
    with pytest.raises(ConfigError, match="not a key prefix"):
        load_config(prefixes=[prefix])


def test_a_run_narrows_to_valid_prefixes_and_checks_nested_ones_once(config):
    assert narrow(config, ["other/"]).prefixes == ("other/",)
    nested = narrow(config, ["uploads/t1/", "uploads/t1/sub/", "uploads/t1/"])
    assert nested.prefixes == ("uploads/t1/",) and nested.narrowed
    assert narrow(config, ["uploads/", "backups/", "uploads/x/"]).prefixes == ("uploads/", "backups/")
    assert not narrow(config, ["backups/", "uploads/"]).narrowed


def test_a_narrowed_run_under_which_nothing_is_stored_says_so(
    results_dsn, s3_client, s3_bucket, pushgateway, config, tmp_path
):
    narrowed = narrow(config, ["uploads/typo/"])
    [outcome], messages = run_and_publish(
        results_dsn, s3_client, s3_bucket, narrowed, "typo", pushgateway, tmp_path / "m.log"
    )
    assert outcome.status == "warning" and "no object under `uploads/typo/`" in outcome.headline
    assert len(messages) == 1


def test_refused_params_plan_nothing_and_say_so_once(results_dsn, pushgateway, tmp_path):
    assert plan_checks({"params": {"prefixes": ["../"]}}) == []
    error = "prefix '../' is not a key prefix"
    outcomes, messages = run_and_publish(
        results_dsn, None, None, None, "refused", pushgateway, tmp_path / "m.log", input_error=error
    )
    [outcome] = outcomes
    assert (
        outcome.status == "failed" and error in outcome.headline and outcome.subject == {"scope": "narrowed"}
    )
    assert len(messages) == 1 and "not a key prefix" in messages[0]


def test_narrowed_run_with_nested_prefixes_sends_one_message_and_keeps_the_bucket_wide_gauges(
    results_dsn, s3_client, s3_bucket, pushgateway, config, tmp_path
):
    for i in range(4):
        s3_client.put_object(Bucket=s3_bucket, Key=f"uploads/t{i % 2}/f{i}.bin", Body=b"x" * (100 + i))
    log = tmp_path / "m.log"
    [whole], _ = run_and_publish(results_dsn, s3_client, s3_bucket, config, "all", pushgateway, log)
    assert whole.subject == {} and whole.summary["counts"]["ok"] == 4
    bucket_wide = pushed(pushgateway, "checksum_objects", result="ok")[""]
    assert bucket_wide == 4

    narrowed = narrow(config, ["uploads/t0/", "uploads/t0/sub/"])
    outcomes, messages = run_and_publish(results_dsn, s3_client, s3_bucket, narrowed, "t0", pushgateway, log)
    [outcome] = outcomes
    assert outcome.subject == {"scope": "narrowed"} and outcome.summary["prefixes"] == ["uploads/t0/"]
    assert outcome.summary["counts"]["ok"] == 2
    assert len(messages) == 1
    ok = pushed(pushgateway, "checksum_objects", result="ok")
    assert ok == {"": 4.0, "narrowed": 2.0}


def test_every_run_checks_the_verifier_canary_and_reports_its_cost(
    results_dsn, s3_client, s3_bucket, pushgateway, config, tmp_path
):
    s3_client.put_object(Bucket=s3_bucket, Key="uploads/t/a.bin", Body=b"a" * 5000)
    [outcome], _ = run_and_publish(
        results_dsn, s3_client, s3_bucket, config, "c1", pushgateway, tmp_path / "l"
    )
    canary = outcome.summary["canary"]
    assert (canary["key"], canary["outcome"], canary["ok"]) == (config.canary_key, "mismatch", True)
    assert canary["bytes"] == config.canary_bytes and canary["seconds"] > 0
    assert canary["requests"] == 1 + 1 + 1  # HEAD (absent), PUT, GET
    assert outcome.status == "success"
    fact = dict(outcome.facts)["Verifier canary"]
    assert "caught (mismatch)" in fact and "of the run's time" in fact and "of its bytes" in fact
    assert [m.value for m in outcome.metrics if m.name == "reliability_verifier_canary_ok"] == [1.0]
    assert pushed(pushgateway, "reliability_verifier_canary_ok")[""] == 1.0
    # The canary is not one of the checked objects; the next run finds it in place (HEAD, GET).
    assert outcome.summary["counts"]["ok"] == 1
    [again], _ = run_and_publish(results_dsn, s3_client, s3_bucket, config, "c2", pushgateway, tmp_path / "l")
    assert again.summary["canary"]["ok"] and again.summary["canary"]["requests"] == 2
    # What the demo prints after its runs.
    from reliability.core.store import connect
    from stack.demo_uploads import coverage_lines

    with connect(results_dsn) as conn:
        lines = coverage_lines(conn)
    assert lines[0] == "  checksum coverage: 100.0% of the objects read verified"
    assert any("verified by s3_crc32" in line and line.endswith(" 1") for line in lines)


def test_a_verifier_that_always_says_verified_fails_the_run_with_a_critical_message(
    results_dsn, s3_client, s3_bucket, pushgateway, config, tmp_path, monkeypatch
):
    from reliability.checksum import hashing
    from reliability.checksum.verdict import OK, Judgement

    s3_client.put_object(Bucket=s3_bucket, Key="uploads/t/a.bin", Body=b"a" * 5000)
    monkeypatch.setattr(
        hashing, "judge", lambda found, digests, **_: Judgement(OK, source=found.expectations[0].source)
    )
    [outcome], messages = run_and_publish(
        results_dsn, s3_client, s3_bucket, config, "stubbed", pushgateway, tmp_path / "l"
    )
    assert outcome.summary["canary"]["outcome"] == "ok" and not outcome.summary["canary"]["ok"]
    assert outcome.status == "failed" and outcome.alert
    assert outcome.headline.startswith("CRITICAL: the checksum verifier passed its canary")
    assert outcome.facts[0][0] == "Verifier canary" and "judged *ok*, not mismatch" in outcome.facts[0][1]
    assert len(messages) == 1 and "CRITICAL" in messages[0] and "canary" in messages[0]
    assert pushed(pushgateway, "reliability_verifier_canary_ok")[""] == 0.0
    assert pushed(pushgateway, "reliability_job_success")[""] == 0.0


def test_an_unreadable_canary_is_a_warning_not_a_proof(
    results_dsn, s3_client, s3_bucket, proxied_client, fault_proxy, pushgateway, config, tmp_path
):
    s3_client.put_object(Bucket=s3_bucket, Key="uploads/t/a.bin", Body=b"a" * 5000)
    fault_proxy.fail(config.canary_key, status=500, code="InternalError", message="boom")
    [outcome], _ = run_and_publish(
        results_dsn, proxied_client, s3_bucket, config, "unread", pushgateway, tmp_path / "l"
    )
    assert outcome.summary["canary"]["outcome"] == "error" and outcome.status == "warning"
    assert "not proven" in dict(outcome.facts)["Verifier canary"]
    assert not [m for m in outcome.metrics if m.name == "reliability_verifier_canary_ok"]
